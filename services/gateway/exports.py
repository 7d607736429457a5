"""Dataset exports, streamed so memory stays flat for a million rows.

* ``csv``: the registry's own CSV stream, passed through chunk by chunk (``locale=id`` for
  Excel in Indonesia: ``;``, decimal comma, UTF-8 BOM);
* ``json``: every matching record as one ``{"items": [...], "next_cursor": null}`` document,
  written while paging through the registry's keyset pages;
* ``xlsx``: the same pages written by openpyxl in write-only mode to a temporary file (in a
  worker thread), which is then streamed and deleted.

CSV and XLSX share their Indonesian column names and formula-safe cells (``shared.tabular``).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from typing import AsyncIterator
from urllib.parse import quote

import httpx
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from services.gateway.upstream import PassThrough, Upstreams
from shared import tabular
from shared.contracts import DatasetSchemaV1

PAGE = 1000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(params) -> list[tuple[str, str]]:
    return [(k, v) for k, v in params.multi_items() if k not in ("format", "cursor", "limit")]


async def pages(upstreams: Upstreams, slug: str, filters: list[tuple[str, str]]
                ) -> AsyncIterator[list[dict]]:
    cursor = None
    while True:
        params = filters + [("limit", str(PAGE))] + ([("cursor", cursor)] if cursor else [])
        _, page = await upstreams.get_json("registry", f"/v1/datasets/{quote(slug)}/records",
                                           params=params)
        yield page.get("items", [])
        cursor = page.get("next_cursor")
        if not cursor:
            return


async def csv_export(upstreams: Upstreams, slug: str, params) -> StreamingResponse:
    timeout = httpx.Timeout(upstreams.settings.export_timeout,
                            connect=upstreams.settings.connect_timeout)
    response = await upstreams.send(
        "registry", "GET", f"/v1/datasets/{quote(slug)}/records",
        params=_filters(params) + [("format", "csv")], stream=True, timeout=timeout)
    if response.status_code != 200:
        body = await response.aread()
        await response.aclose()
        raise PassThrough(response.status_code, body, response.headers.get("content-type"))
    return StreamingResponse(
        response.aiter_raw(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.csv"'},
        background=BackgroundTask(response.aclose))


async def json_export(upstreams: Upstreams, slug: str, params) -> StreamingResponse:
    stream = pages(upstreams, slug, _filters(params))
    first = await anext(stream)  # an unknown dataset fails here, before any byte is sent

    async def body() -> AsyncIterator[bytes]:
        yield b'{"items": ['
        sep = b""
        page = first
        while True:
            if page:  # one chunk per page: few ASGI messages, memory bounded by a page
                yield sep + b",".join(json.dumps(item, ensure_ascii=False).encode()
                                      for item in page)
                sep = b","
            try:
                page = await anext(stream)
            except StopAsyncIteration:
                break
        yield b'], "next_cursor": null}'

    return StreamingResponse(body(), media_type="application/json",
                             headers={"Content-Disposition":
                                      f'attachment; filename="{slug}.json"'})


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


async def xlsx_export(upstreams: Upstreams, slug: str, params) -> StreamingResponse:
    _, dataset = await upstreams.get_json("registry", f"/v1/datasets/{quote(slug)}")
    _, regions = await upstreams.get_json("registry", "/v1/regions")
    names = {r["code"]: r["name"] for r in regions.get("items", [])}
    _, privacy = await upstreams.get_json(  # issue 19: the marker column of hidden cells
        "registry", f"/v1/datasets/{quote(slug)}/privacy")
    marker = bool(privacy.get("sensitive"))
    header, dims, measures = tabular.columns(
        DatasetSchemaV1.model_validate(dataset["schema"]), marker=marker)
    stream = pages(upstreams, slug, _filters(params))
    first = await anext(stream)  # a bad filter fails here, before any file is written
    fd, path = tempfile.mkstemp(prefix="satudata-export-", suffix=".xlsx")
    os.close(fd)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=slug[:31])
        sheet.append(_xlsx_row(sheet, header))
        page: list | None = first
        while page is not None:
            rows = [_xlsx_row(sheet, tabular.row(r, names.get(r["region_code"], ""), dims,
                                                 measures, marker=marker)) for r in page]
            await asyncio.to_thread(lambda: [sheet.append(row) for row in rows])
            page = await anext(stream, None)
        await asyncio.to_thread(workbook.save, path)
    except BaseException:
        os.unlink(path)
        raise
    return StreamingResponse(
        _file_chunks(path), media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{slug}.xlsx"',
                 "Content-Length": str(os.path.getsize(path))},
        background=BackgroundTask(_unlink, path))


async def _file_chunks(path: str, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, size):
            yield chunk


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
