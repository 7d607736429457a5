"""Record routes: a page of records or an export (records/exports.py), one record with its
history, the change feed; and the snapshot search rebuilds from."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from services.registry.records import exports, models, service
from shared.dates import parse_instant
from shared.validation import INT64_MAX
from shared.web import DIMENSION_FILTERS, MaybeCaller, PoolDep, ReadConn

router = APIRouter(prefix="/v1", tags=["registry"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"], include_in_schema=False)

RESERVED_PARAMS = {"region", "period_from", "period_to", "limit", "cursor", "format", "period",
                   "locale"}


EXPORT_CONTENT = {
    "text/csv": {"schema": {"type": "string"}, "example":
                 "kode_wilayah,nama_wilayah,periode,jenis_kelamin,jumlah,versi,diperbarui,"
                 "status_verifikasi\n64.08.04.2001,Sangatta Utara,2024,L,2315,1,"
                 "2024-06-30T08:00:00+00:00,terverifikasi\n"},
    exports.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"},
                                  "example": "(workbook: one sheet, the same columns as CSV)"}}


@router.get("/datasets/{slug}/records", response_model=models.RecordsPublic, responses={
    200: {"content": EXPORT_CONTENT, "description": "a page of records; with format=csv, xlsx "
          "or json (no cursor, no limit) every matching record as a file"}},
            openapi_extra=DIMENSION_FILTERS)
async def list_records(
    slug: str, request: Request, pool: PoolDep, reader: MaybeCaller,
    region: Annotated[str | None, Query(description="region code; descendants included")] = None,
    period_from: str | None = None, period_to: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="default 100")] = None,
    cursor: str | None = None,
    format: Annotated[Literal["json", "csv", "xlsx"] | None, Query(
        description="csv, xlsx, or json without cursor and limit: every matching record as a "
                    "file; left out: a page")] = None,
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
    if format in ("csv", "xlsx") or (format == "json" and cursor is None and limit is None):
        found = await exports.export(pool, slug, query, format, locale)
        headers = {"Content-Disposition": f'attachment; filename="{found.filename}"'}
        if found.length is not None:
            headers["Content-Length"] = str(found.length)
        return StreamingResponse(found.body, media_type=found.media_type, headers=headers,
                                 background=found.cleanup and BackgroundTask(found.cleanup))
    limit = min(limit or 100, request.app.state.settings.page_size_max)
    items, next_cursor = await service.page_of_records(pool, slug, cursor=cursor, limit=limit,
                                                       **query)
    return {"items": items, "next_cursor": next_cursor}


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
    items, next_cursor = await service.snapshot(conn, kind, cursor, limit)
    return {"items": items, "next_cursor": next_cursor}
