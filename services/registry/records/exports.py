"""Every export of a dataset's records, built here and only here, streamed so memory stays flat
for a million rows:

* ``csv``: ``locale=id`` for Excel in Indonesia (``;``, decimal comma, UTF-8 BOM);
* ``xlsx``: openpyxl in write-only mode into a temporary file (in a worker thread), then
  streamed with its length and deleted;
* ``json``: every matching record as one ``{"items": [...], "next_cursor": null}`` document.

All three read the same keyset pages, as the reader may see them (a sensitive dataset's small
counts hidden), with a connection of their own per page, so none is held while the client is
slow. CSV and XLSX share their Indonesian columns and formula-safe cells (``shared.tabular``).
Every parameter is checked, and the first page read, before the first byte: a bad one is a
4xx, never a 200 that stops after the header. A failure after the first byte raises, so the
server aborts the transfer: the client sees an incomplete download, never a complete-looking
one.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from typing import AsyncIterator, Callable

import asyncpg
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from pydantic import TypeAdapter

from services.registry.datasets import service as datasets
from services.registry.privacy import service as privacy
from services.registry.records.models import RecordPublic
from services.registry.records.service import list_records
from services.registry.regions import service as regions
from shared import tabular

PAGE = 5000
RECORDS = TypeAdapter(list[RecordPublic])  # the JSON of a page, as the page API writes it
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


@dataclass
class Export:
    """What a route sends: the body, its type and file name, its length when known, and what
    to do once it is sent (delete the temporary file)."""

    body: AsyncIterator[bytes]
    media_type: str
    filename: str
    length: int | None = None
    cleanup: Callable[[], None] | None = None


async def export(pool: asyncpg.Pool, slug: str, query: dict, fmt: str, locale: str) -> Export:
    async with pool.acquire() as conn:
        dataset = await datasets.get_dataset(conn, slug)
        first = await list_records(conn, slug, cursor=None, limit=PAGE, **query)
        by_code = {r["code"]: r for r in (await regions.list_regions(conn, tree=False))[0]}
        marker = await privacy.is_sensitive(conn, slug)  # the hidden cells' column
    stream = _pages(pool, slug, first, query)
    filename = f"{slug}.{fmt}"
    if fmt == "json":
        return Export(_json(stream), MEDIA_TYPES[fmt], filename)
    table = _Table(dataset["schema"], by_code, marker)
    if fmt == "csv":
        return Export(_csv(stream, table, locale), MEDIA_TYPES[fmt], filename)
    path = await _xlsx_file(stream, table, slug)
    return Export(_file_chunks(path), MEDIA_TYPES[fmt], filename,
                  length=os.path.getsize(path), cleanup=lambda: _unlink(path))


async def _pages(pool: asyncpg.Pool, slug: str, first: tuple[list[dict], str | None],
                 query: dict) -> AsyncIterator[list[dict]]:
    items, cursor = first
    while True:
        yield items
        if cursor is None:
            return
        async with pool.acquire() as conn:
            items, cursor = await list_records(conn, slug, cursor=cursor, limit=PAGE, **query)


class _Table:
    """The export's columns and one record's cells (shared.tabular)."""

    def __init__(self, schema, regions: dict[str, dict], marker: bool) -> None:
        self.header, self.dims, self.measures = tabular.columns(schema, marker=marker)
        self.regions, self.marker = regions, marker

    def cells(self, record: dict) -> list:
        return tabular.row(record, self.regions.get(record["region_code"], {}), self.dims,
                           self.measures, marker=self.marker)


async def _json(stream: AsyncIterator[list[dict]]) -> AsyncIterator[bytes]:
    yield b'{"items": ['
    sep = b""
    async for page in stream:
        if page:  # one chunk per page: few ASGI messages, memory bounded by a page
            yield sep + RECORDS.dump_json(RECORDS.validate_python(page))[1:-1]
            sep = b","
    yield b'], "next_cursor": null}'


async def _csv(stream: AsyncIterator[list[dict]], table: _Table, locale: str
               ) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=tabular.CSV_DELIMITER[locale])
    writer.writerow(table.header)
    yield ((tabular.BOM if locale == "id" else "") + buf.getvalue()).encode()
    async for page in stream:
        buf.seek(0)
        buf.truncate()
        for record in page:
            writer.writerow([tabular.csv_cell(c, locale) for c in table.cells(record)])
        yield buf.getvalue().encode()


def _xlsx_row(sheet, values: list) -> list:
    """Cells for a write-only sheet: text always as text (openpyxl would otherwise store a
    string starting with '=' as a live formula), numbers as numbers."""
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells


async def _xlsx_file(stream: AsyncIterator[list[dict]], table: _Table, slug: str) -> str:
    fd, path = tempfile.mkstemp(prefix="satudata-export-", suffix=".xlsx")
    os.close(fd)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=slug[:31])
        sheet.append(_xlsx_row(sheet, table.header))
        async for page in stream:
            rows = [_xlsx_row(sheet, table.cells(r)) for r in page]
            await asyncio.to_thread(lambda: [sheet.append(row) for row in rows])
        await asyncio.to_thread(workbook.save, path)
    except BaseException:
        _unlink(path)
        raise
    return path


async def _file_chunks(path: str, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, size):
            yield chunk


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
