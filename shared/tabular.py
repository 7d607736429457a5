"""Rows for spreadsheets: the column names every export shares (CSV from the registry, XLSX
from the gateway) and cells that cannot attack a spreadsheet.

Column names are Indonesian, as the people who open the files say them: ``kode_wilayah``,
``nama_wilayah``, ``periode``, the dataset's dimensions and measures, ``versi``,
``diperbarui``. A text cell that starts with ``= + - @``, a tab or a carriage return would be
read by Excel or LibreOffice as a formula (OWASP, CSV injection): in CSV it gets a leading
apostrophe, as OWASP recommends; XLSX writes text cells as text (never as formulas). Numbers
stay numbers, negative ones included.
"""

from __future__ import annotations

from typing import Any, Literal

Locale = Literal["en", "id"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER = {"en": ",", "id": ";"}
BOM = "\ufeff"  # Excel needs it to read a CSV as UTF-8


def columns(schema: dict) -> tuple[list[str], list[str], list[str]]:
    """(header, dimension names, measure names) of a dataset's export."""
    dims = [d["name"] for d in schema.get("dimensions", [])]
    measures = [m["name"] for m in schema.get("measures", [])]
    return (["kode_wilayah", "nama_wilayah", "periode", *dims, *measures, "versi",
             "diperbarui"], dims, measures)


def row(record: dict, region_name: str, dims: list[str], measures: list[str]) -> list[Any]:
    """One record's cells, in ``columns`` order (record as the registry's API shapes it)."""
    updated = record["updated_at"]
    return [record["region_code"], region_name, record["period"],
            *(record["dimensions"].get(d, "") for d in dims),
            *(record["values"].get(m) for m in measures),
            record["version"], updated if isinstance(updated, str) else updated.isoformat()]


def safe_text(value: str) -> str:
    """A text cell a spreadsheet will not run: OWASP's leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_cell(value: Any, locale: Locale = "en") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        text = repr(value) if isinstance(value, float) else str(value)
        return text.replace(".", ",") if locale == "id" else text
    return safe_text(str(value))
