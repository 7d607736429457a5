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

from services.registry.datasets import service as datasets
from services.registry.timeliness import store
from shared import reporting_calendar as calendar
from shared.reporting_calendar import valid_period
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
    dataset = await datasets.get_dataset(conn, slug)
    if not principal.may_write(slug):
        raise Forbidden(f"Kunci ini tidak boleh mengirim dataset {slug}.",
                        code="dataset_not_allowed")
    frequency, schema = dataset["frequency"], dataset["schema"]
    levels = list(schema.region_levels)
    if period is None:
        period = await _due_period(conn, dataset, principal.region_scope, levels)
    elif not valid_period(frequency, period):
        raise Unprocessable(f"Periode '{period}' tidak sesuai frekuensi dataset ({frequency}).",
                            code="period_format")
    units = await store.units(conn, dataset_id=dataset["id"], period=period, levels=levels,
                              root=principal.region_scope)
    measures = schema.measure_names
    header = ["kode_wilayah", "nama_wilayah", "periode", *schema.dimension_names, *measures]
    combos = list(itertools.product(*[list(d.values or {"": ""}) for d in schema.dimensions]))
    rows = [[u["code"], u["name"], period, *combo, *([None] * len(measures))]
            for u in units for combo in combos]
    return dataset, period, header, rows


async def _due_period(conn, dataset: dict, scope: str, levels: list[str]) -> str:
    """The latest period past its due date while a unit still owes it, else the next one."""
    frequency = dataset["frequency"]
    custom = await datasets.grace_days(conn, dataset["id"])
    grace = custom if custom is not None else calendar.DEFAULT_GRACE_DAYS[frequency]
    now = clock.now()
    latest = calendar.latest_due(frequency, grace, now)
    units = await store.units(conn, dataset_id=dataset["id"], period=latest, levels=levels,
                              root=scope)
    if any(u["submitted_at"] is None for u in units):
        return latest
    return calendar.upcoming(frequency, grace, now)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def template(conn: asyncpg.Connection, principal: Principal, slug: str, *,
                   period: str | None, format: str, locale: tabular.Locale
                   ) -> tuple[bytes, str, str]:
    """(body, media type, file name) of the caller's template to fill."""
    dataset, period, header, rows = await template_rows(conn, principal, slug, period)
    name = f"templat-{slug}-{period}-{principal.publisher_id}.{format}"
    if format == "csv":
        return as_csv(header, rows, locale), "text/csv; charset=utf-8", name
    return as_xlsx(header, rows, f"{dataset['title']} periode {period}"), XLSX, name


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
