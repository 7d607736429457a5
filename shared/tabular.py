"""Rows for spreadsheets: the column names every export shares (CSV from the registry, XLSX
from the gateway) and cells that cannot attack a spreadsheet.

Column names are Indonesian, as the people who open the files say them: ``kode_wilayah``,
``nama_wilayah``, ``periode``, the dataset's dimensions and measures, ``versi``,
``diperbarui``, ``status_verifikasi`` ("sedang diverifikasi" while a newer value of the row
waits for the walidata; the row then shows the last verified value). A text cell that starts with ``= + - @``, a tab or a carriage return would be
read by Excel or LibreOffice as a formula (OWASP, CSV injection): in CSV it gets a leading
apostrophe, as OWASP recommends; XLSX writes text cells as text (never as formulas). Numbers
stay numbers, negative ones included.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from shared.clock import WITA
from shared.contracts import DatasetSchemaV1

Locale = Literal["en", "id"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER = {"en": ",", "id": ";"}
BOM = "\ufeff"  # Excel needs it to read a CSV as UTF-8


MARKER = "disembunyikan"  # which measures of the row are hidden, and why
VERIFICATION = "status_verifikasi"  # the row's newer value waits for the walidata
UNDER_VERIFICATION = "sedang diverifikasi"
# the region's validity, as /v1/regions gives it: the first day its code is used, and the
# first day it no longer is (empty: no such day); a row of a retired or a new region says so
VALIDITY = ("wilayah_berlaku_mulai", "wilayah_tidak_berlaku_sejak")


def verification_cell(record: dict) -> str:
    """The ``status_verifikasi`` cell: "sedang diverifikasi" or empty."""
    return UNDER_VERIFICATION if record.get("verification_status") == "sedang_diverifikasi" \
        else ""


def columns(schema: DatasetSchemaV1, marker: bool = False
            ) -> tuple[list[str], list[str], list[str]]:
    """(header, dimension names, measure names) of a dataset's export; ``marker`` (a
    sensitive dataset) adds the column naming the hidden cells of each row."""
    dims, measures = schema.dimension_names, schema.measure_names
    return (["kode_wilayah", "nama_wilayah", "periode", *dims, *measures, "versi",
             "diperbarui", VERIFICATION, *VALIDITY, *([MARKER] if marker else [])],
            dims, measures)


def plain(value: Any) -> Any:
    """A value as a cell: a hidden one is empty (None)."""
    return None if isinstance(value, dict) and value.get("suppressed") else value


def row(record: dict, region: dict, dims: list[str], measures: list[str],
        marker: bool = False) -> list[Any]:
    """One record's cells, in ``columns`` order (record as the registry's API shapes it;
    region as /v1/regions: name, valid_from, valid_until); a hidden value is an empty cell,
    named with its reason in the marker column."""
    updated = record["updated_at"]
    values = record["values"]
    hidden = [f"{m}: {values[m]['reason']}" for m in measures
              if plain(values.get(m)) is None and isinstance(values.get(m), dict)]
    return [record["region_code"], region.get("name", ""), record["period"],
            *(record["dimensions"].get(d, "") for d in dims),
            *(plain(values.get(m)) for m in measures),
            record["version"], _wita(updated),
            verification_cell(record), *(_day(region.get(k)) for k in ("valid_from", "valid_until")),
            *(["; ".join(hidden)] if marker else [])]


def _day(value: Any) -> str:
    return "" if value is None else str(value)


def _wita(moment: Any) -> str:
    """ISO 8601 in Kutai Timur's time with its offset (2026-12-06T13:05:00+08:00): what a
    person opening the file reads, and what a machine parses back exactly."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(WITA).isoformat()


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
