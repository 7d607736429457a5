"""Input bounded before it costs: columns, cells and warnings, checked as rows are read and
before anything proportional to them is allocated or stored. Every refusal is a 4xx naming the
line (or the JSON row) and the column, in Bahasa Indonesia."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import Unprocessable

WARNINGS_SHOWN = 20  # per kind; the rest are counted in one summary warning


@dataclass(frozen=True)
class Limits:
    max_columns: int = 100
    max_cell_bytes: int = 8192


def too_many_columns(found: int | str, limit: int, where: str = "Judul kolom") -> Unprocessable:
    return Unprocessable(
        f"{where} berisi {found} kolom; paling banyak {limit}. Hapus kolom yang tidak perlu, "
        "lalu kirim lagi.", code="too_many_columns",
        details=[{"columns": found, "max_columns": limit}])


def check_csv_header(path: Path, limit: int, max_bytes: int = 1 << 20) -> None:
    """Refuse a CSV whose first line holds more columns than allowed, counting separators in
    its first megabyte instead of letting the csv module build a list of every field."""
    with open(path, "rb") as handle:
        head = handle.read(max_bytes)
    line = head.split(b"\n", 1)[0]
    widest = max(line.count(sep) for sep in (b",", b";", b"\t", b"|")) + 1
    if widest > limit:
        raise too_many_columns(widest if b"\n" in head else f"lebih dari {widest}", limit)
    if len(line) >= max_bytes and b"\n" not in head:
        raise Unprocessable(
            "Baris judul kolom CSV lebih dari 1 MB; periksa apakah berkas ini benar CSV.",
            code="header_too_long", details=[{"line": 1, "max_bytes": max_bytes}])


def check_cells(row: dict[str, Any], where: dict, limits: Limits) -> None:
    """Each cell a scalar that can be stored and travel: no nested object or list, no NaN or
    infinity, no NUL, no cell longer than ``max_cell_bytes``."""
    place = (f"Baris {where['line']}" if where.get("line") is not None
             else f"Baris JSON ke-{where['index']}")
    for column, value in row.items():
        if column.startswith("_"):
            continue
        problem = None
        if isinstance(value, (dict, list)):
            problem = ("nested_value", "berisi objek atau daftar; setiap kolom harus satu nilai "
                                       "(angka atau teks)")
        elif isinstance(value, float) and not math.isfinite(value):
            problem = ("not_a_number", "bukan angka yang sah (NaN atau tak hingga)")
        elif isinstance(value, str):
            if "\x00" in value:
                problem = ("nul_character", "berisi karakter NUL; simpan ulang berkas sebagai "
                                            "teks biasa")
            elif len(value) * 4 > limits.max_cell_bytes and \
                    len(value.encode()) > limits.max_cell_bytes:
                problem = ("cell_too_large", f"lebih dari {limits.max_cell_bytes} byte")
        if problem:
            code, why = problem
            raise Unprocessable(f"{place}, kolom {column}: {why}.", code=code,
                                details=[{**where, "field": column, "code": code}])


def capped(warnings: list[dict]) -> list[dict]:
    """At most ``WARNINGS_SHOWN`` warnings of each code, then one that counts the rest."""
    shown: dict[str, int] = {}
    out, hidden = [], {}
    for warning in warnings:
        code = warning.get("code", "")
        shown[code] = shown.get(code, 0) + 1
        if shown[code] <= WARNINGS_SHOWN:
            out.append(warning)
        else:
            hidden[code] = hidden.get(code, 0) + 1
    for code, count in hidden.items():
        out.append({"code": f"{code}_more", "count": count,
                    "message": f"Dan {count} peringatan {code} lain (tidak ditampilkan)."})
    return out
