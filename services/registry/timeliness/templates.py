"""Templates to fill: one row per unit of the publisher (and per combination of dimension
values), the due period written in, the measures left blank. Uploaded back as they are once the
blanks are filled: the columns are the names ingest reads (``kode_wilayah``, ``periode``, the
dataset's dimensions and measures); ``nama_wilayah`` is there for people and ingest ignores it.
"""

from __future__ import annotations

import csv
import io
import itertools

import asyncpg
from openpyxl import Workbook

from services.registry import service as registry
from services.registry.timeliness import calendar, store
from services.registry.timeliness.service import DEFAULT_LEVELS
from services.registry.validation import valid_period
from shared import clock, tabular
from shared.auth import Principal
from shared.errors import Forbidden, Unprocessable

INSTRUCTIONS = [
    "Isi kolom ukuran (angka) pada lembar pertama, lalu unggah berkas ini apa adanya.",
    "Jangan ubah kode_wilayah, periode, atau nama kolom. nama_wilayah hanya untuk dibaca.",
    "Angka boleh ditulis 1.234 (ribuan dengan titik) atau 1234.",
]


async def template_rows(conn: asyncpg.Connection, principal: Principal, slug: str,
                        period: str | None) -> tuple[dict, str, list[str], list[list]]:
    """(dataset, period, header, rows) of a publisher's template."""
    dataset = await registry.get_dataset(conn, slug)
    if not principal.may_write(slug):
        raise Forbidden(f"Kunci ini tidak boleh mengirim dataset {slug}.",
                        code="dataset_not_allowed")
    frequency = dataset["frequency"]
    levels = dataset["schema"].get("region_levels") or DEFAULT_LEVELS
    if period is None:
        period = await _due_period(conn, dataset, principal.region_scope, levels)
    elif not valid_period(frequency, period):
        raise Unprocessable(f"Periode '{period}' tidak sesuai frekuensi dataset ({frequency}).",
                            code="period_format")
    units = await store.units(conn, dataset_id=dataset["id"], period=period, levels=levels,
                              root=principal.region_scope)
    dims = dataset["schema"].get("dimensions", [])
    measures = [m["name"] for m in dataset["schema"].get("measures", [])]
    header = ["kode_wilayah", "nama_wilayah", "periode", *(d["name"] for d in dims), *measures]
    combos = list(itertools.product(*[list((d.get("values") or {"": ""}).keys())
                                      for d in dims]))
    rows = [[u["code"], u["name"], period, *combo, *([None] * len(measures))]
            for u in units for combo in combos]
    return dataset, period, header, rows


async def _due_period(conn, dataset: dict, scope: str, levels: list[str]) -> str:
    """The latest period past its due date while a unit still owes it, else the next one."""
    frequency = dataset["frequency"]
    custom = await store.grace_days(conn, dataset["id"])
    grace = custom if custom is not None else calendar.DEFAULT_GRACE_DAYS[frequency]
    now = clock.now()
    latest = calendar.latest_due(frequency, grace, now)
    units = await store.units(conn, dataset_id=dataset["id"], period=latest, levels=levels,
                              root=scope)
    if any(u["submitted_at"] is None for u in units):
        return latest
    return calendar.upcoming(frequency, grace, now)


def as_csv(header: list[str], rows: list[list], locale: tabular.Locale) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=tabular.CSV_DELIMITER[locale])
    writer.writerow(header)
    for r in rows:
        writer.writerow([tabular.csv_cell(c, locale) for c in r])
    return ((tabular.BOM if locale == "id" else "") + buf.getvalue()).encode("utf-8")


def as_xlsx(header: list[str], rows: list[list], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    sheet.append(header)
    for r in rows:
        sheet.append(r)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, never a formula
    for column, width in zip("ABC", (16, 28, 10)):
        sheet.column_dimensions[column].width = width
    notes = workbook.create_sheet("petunjuk")
    notes.append([title])
    for line in INSTRUCTIONS:
        notes.append([line])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
