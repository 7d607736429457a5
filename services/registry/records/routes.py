"""Record routes: a page of records (JSON or CSV), one record with its history, the change
feed; and the snapshot search rebuilds from."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.registry.records import models
from services.registry.datasets import service as datasets
from services.registry.privacy import service as privacy
from services.registry.records import service
from services.registry.regions import service as regions
from shared import tabular
from shared.dates import parse_instant
from shared.validation import INT64_MAX
from shared.web import MaybeCaller, PoolDep, ReadConn

router = APIRouter(prefix="/v1", tags=["registry"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"], include_in_schema=False)

RESERVED_PARAMS = {"region", "period_from", "period_to", "limit", "cursor", "format", "period",
                   "locale"}
CSV_PAGE = 5000


@router.get("/datasets/{slug}/records", response_model=models.RecordsPublic)
async def list_records(
    slug: str, request: Request, pool: PoolDep, reader: MaybeCaller,
    region: Annotated[str | None, Query(description="region code; descendants included")] = None,
    period_from: str | None = None, period_to: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    cursor: str | None = None,
    format: Literal["json", "csv"] = "json",
    locale: Annotated[Literal["en", "id"], Query(
        description="CSV for Excel in Indonesia: id = ';' between fields, decimal comma, "
                    "UTF-8 BOM")] = "en",
):
    dims = {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMS}
    period = request.query_params.get("period")
    if period:
        period_from = period_to = period
    query = dict(region=region, period_from=period_from, period_to=period_to, dims=dims,
                 reader=reader)
    if format == "csv":
        return await _csv_response(pool, slug, query, locale)
    limit = min(limit, request.app.state.settings.page_size_max)
    async with pool.acquire() as conn:
        items, next_cursor = await service.list_records(conn, slug, cursor=cursor, limit=limit,
                                                        **query)
    return {"items": items, "next_cursor": next_cursor}


async def _csv_response(pool, slug: str, query: dict, locale: str) -> StreamingResponse:
    """Every parameter is checked (and the first page read) before the first byte: a bad
    one is a 4xx, never a 200 that stops after the header. The stream reads a page at a
    time on a connection of its own, so it holds none while the client is slow."""
    async with pool.acquire() as conn:
        dataset = await datasets.get_dataset(conn, slug)
        first = await service.list_records(conn, slug, cursor=None, limit=CSV_PAGE, **query)
        names = {r["code"]: r["name"] for r in (await regions.list_regions(conn, tree=False))[0]}
        marker = await privacy.is_sensitive(conn, slug)  # issue 19: the hidden cells' column
    return StreamingResponse(
        _csv_pages(pool, dataset, names, first, query, locale, marker),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.csv"'})


async def _csv_pages(pool, dataset, names, first, query, locale, marker=False):
    """Stream every matching record as CSV, a keyset page at a time (memory stays flat), in
    the columns and with the safe cells every export shares (shared.tabular). A failure after
    the first byte raises, so the server aborts the transfer (no final chunk): the client sees
    an incomplete download, never a complete-looking one."""
    header, dim_names, measure_names = tabular.columns(dataset["schema"], marker=marker)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=tabular.CSV_DELIMITER[locale])
    writer.writerow(header)
    yield (tabular.BOM if locale == "id" else "") + buf.getvalue()
    items, cursor = first
    while True:
        buf.seek(0)
        buf.truncate()
        for r in items:
            cells = tabular.row(r, names.get(r["region_code"], ""), dim_names, measure_names,
                                marker=marker)
            writer.writerow([tabular.csv_cell(c, locale) for c in cells])
        yield buf.getvalue()
        if cursor is None:
            return
        async with pool.acquire() as conn:
            items, cursor = await service.list_records(conn, dataset["slug"], cursor=cursor,
                                                       limit=CSV_PAGE, **query)


@router.get("/records/{record_id}", response_model=models.RecordWithHistory)
async def show_record(
    record_id: uuid.UUID, conn: ReadConn, reader: MaybeCaller,
    as_of: Annotated[str | None, Query(
        description="2026-11-28 (end of that day), 28-11-2026, 28/11/2026, or a datetime; "
                    "no zone = WITA (UTC+8)")] = None,
):
    return await service.get_record(conn, record_id, parse_instant(as_of, "as_of"), reader)


@router.get("/changes", response_model=models.ChangesPublic, response_model_exclude_unset=True)
async def changes(conn: ReadConn, reader: MaybeCaller, since: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 500):
    """The change feed answers ``next``, the last sequence number, not a cursor: clients
    store it to resume where they stopped (docs/registry.md)."""
    return await service.changes(conn, since, limit, reader)


@internal.get("/snapshot/{kind}")
async def snapshot(kind: Literal["regions", "datasets", "records"], conn: ReadConn,
                   cursor: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=5000)] = 1000):
    """What search rebuilds from: regions and datasets whole, records a keyset page at a
    time."""
    if kind == "regions":
        items = [r.model_dump(mode="json") for r in await regions.region_events(conn)]
        return {"items": items, "next_cursor": None}
    if kind == "datasets":
        return {"items": await datasets.dataset_events(conn), "next_cursor": None}
    items, next_cursor = await service.record_snapshot(conn, cursor, limit)
    return {"items": items, "next_cursor": next_cursor}
