"""Personal identifiers that must never enter public data: NIK, KK numbers, phone numbers.

Pure functions, no I/O. A NIK is 16 digits: province (11..99), regency and kecamatan
(nonzero), date of birth DDMMYY (women: day + 40), a nonzero 4-digit serial. A KK number is
16 digits with the same region prefix (its date is the issue date, so the day is never + 40).
Digits written with spaces, dots or dashes between them count too (``6408 0415 0890 0001``),
and so does a cell Excel turned into a number. Phones: ``08...``, ``+62 8...``, ``628...``.
Found values are never echoed whole: the message shows the last four digits masked.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

SIXTEEN = re.compile(r"(?<![0-9])(?:[0-9][ .\-]?){15}[0-9](?![0-9])")
PHONE = re.compile(r"(?<![0-9+])(?:\+62|62|0)[ .\-]?8[0-9](?:[ .\-]?[0-9]){6,10}(?![0-9])")


def _region_prefix(d: str) -> bool:
    return 11 <= int(d[:2]) <= 99 and d[2:4] != "00" and d[4:6] != "00"


def _nik_date(d: str) -> bool:
    day, month = int(d[6:8]), int(d[8:10])
    day = day - 40 if day > 40 else day
    return 1 <= day <= 31 and 1 <= month <= 12


def _plain(text: str) -> str:
    """NFKC (fullwidth ``６４０８`` and other compatibility forms become ASCII), then every
    remaining decimal digit of any script as its ASCII digit, so no way of writing a number
    slips past the patterns."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def kind_of(text: str) -> str | None:
    """'nik', 'kk', 'phone' or None for one cell's text."""
    text = _plain(text)
    for match in SIXTEEN.finditer(text):
        digits = re.sub(r"[^0-9]", "", match.group())
        if not _region_prefix(digits) or digits[12:] == "0000":
            continue
        return "nik" if _nik_date(digits) else "kk"
    if PHONE.search(text):
        return "phone"
    return None


LABEL = {"nik": "NIK (nomor induk kependudukan)", "kk": "nomor Kartu Keluarga (KK)",
         "phone": "nomor telepon"}


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value) if isinstance(value, int) else None


def refusals(row: dict[str, Any]) -> list[dict]:
    """One refusal per cell holding a personal identifier: field, code, message, details."""
    out = []
    for field, value in row.items():
        text = _text(value)
        if text is None or str(field).startswith("_"):
            continue
        kind = kind_of(text)
        if kind is None:
            continue
        out.append({
            "field": str(field), "code": f"personal_data_{kind}",
            "message": f"Kolom '{field}' berisi sesuatu yang berbentuk {LABEL[kind]}. Data "
                       "pribadi tidak boleh masuk data publik (UU 27/2022 tentang Pelindungan "
                       "Data Pribadi): hapus nilai itu dari baris ini lalu kirim ulang.",
            "details": {"kind": kind, "masked": "*" * 12 + "****"}})
    return out
