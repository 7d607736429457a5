"""Registry HTTP routes: parse, call the service, shape the response."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from services.registry import models, privacy, retraction, service, statistics, store
from shared.auth import principal_from_headers, require_principal, require_steward
from shared import tabular
from shared.dates import parse_instant
from shared.errors import BadRequest, NotFound
from shared.validation import INT64_MAX
from shared.web import PoolDep

router = APIRouter(prefix="/v1", tags=["registry"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"], include_in_schema=False)

RESERVED_PARAMS = {"region", "period_from", "period_to", "limit", "cursor", "format", "period",
                   "locale"}


@router.get("/datasets", response_model=models.DatasetsPublic)
async def list_datasets(request: Request, pool: PoolDep, retracted: Annotated[bool, Query(
        description="true: the withdrawn datasets instead (walidata)")] = False):
    if retracted:
        require_steward(request.headers)
    async with pool.acquire() as conn:
        items = await store.list_datasets(conn, retracted=retracted)
    return {"items": items, "count": len(items)}


@router.get("/datasets/{slug}", response_model=models.DatasetPublic, response_model_by_alias=True)
async def show_dataset(slug: str, request: Request, pool: PoolDep):
    """410 with the reason once withdrawn (the walidata still sees it, to restore it)."""
    principal = principal_from_headers(request.headers)
    async with pool.acquire() as conn:
        return await service.get_dataset(
            conn, slug, allow_retracted=principal is not None and principal.is_steward)


@router.post("/datasets", response_model=models.DatasetPublic, status_code=201)
async def create_dataset(body: models.DatasetCreate, request: Request, pool: PoolDep):
    require_steward(request.headers)
    data = body.model_dump(by_alias=True)
    async with pool.acquire() as conn, conn.transaction():
        return await service.create_dataset(conn, data)


@router.patch("/datasets/{slug}", response_model=models.DatasetPublic)
async def update_dataset(slug: str, body: models.DatasetUpdate, request: Request,
                         pool: PoolDep):
    require_steward(request.headers)
    changes = body.model_dump(by_alias=True, exclude_unset=True)
    async with pool.acquire() as conn, conn.transaction():
        return await service.update_dataset(conn, slug, changes)


@router.post("/datasets/{slug}/retract", response_model=models.DatasetPublic)
async def retract_dataset(slug: str, body: models.RetractNote, request: Request,
                          pool: PoolDep):
    """Hidden from the catalogue, search, CKAN and exports; its URLs answer 410 with the
    reason until restored (walidata)."""
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await retraction.retract_dataset(conn, principal, slug, body.reason)


@router.post("/datasets/{slug}/restore", response_model=models.DatasetPublic)
async def restore_dataset(slug: str, request: Request, pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await retraction.restore_dataset(conn, principal, slug)


@router.post("/records/{record_id}/retract", response_model=models.RecordWithHistory)
async def retract_record(record_id: uuid.UUID, body: models.RetractNote, request: Request,
                         pool: PoolDep):
    """A new version with status ``retracted`` (walidata, or the dataset's authoritative
    publisher): left out of aggregates and exports, kept in history, on the change feed."""
    principal = require_principal(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await retraction.retract_record(conn, principal, record_id, body.reason)


@router.get("/datasets/{slug}/records", response_model=models.RecordsPublic)
async def list_records(
    slug: str, request: Request, pool: PoolDep,
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
    limit = min(limit, request.app.state.settings.page_size_max)
    if format == "csv":
        # every parameter is checked (and the first page read) before the first byte: a bad
        # one is a 4xx, never a 200 that stops after the header
        query = dict(region=region, period_from=period_from, period_to=period_to, dims=dims)
        async with pool.acquire() as conn:
            dataset = await service.get_dataset(conn, slug)
            first = await service.list_records(conn, slug, cursor=None, limit=CSV_PAGE, **query)
            names = {r["code"]: r["name"] for r in await store.all_regions(conn)}
            principal = principal_from_headers(request.headers)  # issue 19: privacy
            marker = (await privacy.get_settings(conn, slug))["sensitive"]
            first = (await privacy.mask_records(conn, slug, first[0], principal), first[1])
        return StreamingResponse(
            _csv_pages(pool, dataset, names, first, query, locale, principal, marker),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{slug}.csv"'})
    async with pool.acquire() as conn:
        items, next_cursor = await service.list_records(
            conn, slug, region=region, period_from=period_from, period_to=period_to,
            dims=dims, cursor=cursor, limit=limit)
        items = await privacy.mask_records(conn, slug, items,  # issue 19: privacy
                                           principal_from_headers(request.headers))
    return {"items": items, "next_cursor": next_cursor}


CSV_PAGE = 5000


async def _csv_pages(pool, dataset, names, first, query, locale, principal=None,
                     marker=False):
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
            items = await privacy.mask_records(conn, dataset["slug"], items, principal)


@router.get("/records/{record_id}", response_model=models.RecordWithHistory)
async def show_record(
    record_id: uuid.UUID, pool: PoolDep, request: Request,
    as_of: Annotated[str | None, Query(
        description="2026-11-28 (end of that day), 28-11-2026, 28/11/2026, or a datetime; "
                    "no zone = WITA (UTC+8)")] = None,
):
    moment = parse_instant(as_of, "as_of")
    async with pool.acquire() as conn:
        out = await service.get_record(conn, record_id, moment)
        return await privacy.mask_record_detail(conn, out,  # issue 19: privacy
                                                principal_from_headers(request.headers))


@router.get("/regions", response_model=models.RegionsPublic, response_model_exclude_unset=True)
async def list_regions(pool: PoolDep, tree: bool = False):
    async with pool.acquire() as conn:
        regions = await store.all_regions(conn)
    items = [{"code": r["code"], "name": r["name"], "level": r["level"],
              "parent_code": r["parent_code"], "path": list(r["path"]),
              "valid_until": r["valid_until"], "successor_code": r["successor_code"]}
             for r in regions]
    if not tree:
        return {"items": items, "count": len(items)}
    by_code = {r["code"]: {**r, "children": []} for r in items}
    roots = []
    for r in by_code.values():
        parent = by_code.get(r["parent_code"] or "")
        (parent["children"] if parent else roots).append(r)
    return {"items": roots, "count": len(items)}


@router.get("/regions/{code}", response_model=models.RegionDetail,
            response_model_exclude_unset=True)
async def show_region(code: str, pool: PoolDep):
    async with pool.acquire() as conn:
        region = await store.get_region(conn, code)
        if region is None:
            raise NotFound(f"Wilayah '{code}' tidak ada.", code="region_not_found")
        children = await store.region_children(conn, code)
        aliases = await store.list_aliases(conn, region_code=code)
        names = {c: (await store.get_region(conn, c) or {}).get("name") for c in region["path"]}
    return {**region, "path": [{"code": c, "name": names[c]} for c in region["path"]],
            "children": children,
            "aliases": [{k: a[k] for k in ("id", "kind", "alias", "source", "status", "note")}
                        for a in aliases]}


AGGREGATE_PARAMS = {"dataset", "period", "period_from", "period_to", "measure", "region",
                    "sum"}


@router.get("/aggregates", response_model=models.AggregatePublic,
            response_model_exclude_unset=True)
async def aggregates(
    request: Request, pool: PoolDep, dataset: str,
    period: Annotated[str | None, Query(description="one period (same as from = to)")] = None,
    period_from: str | None = None, period_to: str | None = None,
    measure: Annotated[list[str] | None, Query(
        description="measures, repeated or comma-separated (default: every additive one)")
    ] = None,
    region: Annotated[str | None, Query(
        description="region code (default: the kabupaten)")] = None,
    sum: Annotated[bool, Query(
        description="false: each region's own values, never added up (non-additive "
                    "measures such as ratios are only available so)")] = True,
):
    """Per period (a range, or every period with data): each measure summed over a region
    and each of its children, with the reporting units, the expected units and the rate;
    always current. Any other query parameter filters a dimension (``?jenis_kelamin=P``)."""
    dims = {k: v for k, v in request.query_params.items() if k not in AGGREGATE_PARAMS}
    names = [n.strip() for m in measure or [] for n in m.split(",") if n.strip()]
    async with pool.acquire() as conn:
        body = await statistics.aggregate(conn, dataset, period=period,
                                          period_from=period_from, period_to=period_to,
                                          measures=names, region=region, dims=dims,
                                          summed=sum)
        return await privacy.mask_aggregate(conn, body,  # issue 19: privacy
                                            principal_from_headers(request.headers))


@router.get("/completeness", response_model=models.CompletenessPublic,
             response_model_exclude_unset=True)
async def completeness(pool: PoolDep, dataset: str, period: str, region: str | None = None):
    async with pool.acquire() as conn:
        return await statistics.completeness(conn, dataset, period=period, region=region)


@router.get("/publishers", response_model=models.PublishersList, response_model_exclude_unset=True)
async def list_publishers(pool: PoolDep):
    async with pool.acquire() as conn:
        items = await store.list_publishers(conn)
    return {"items": [{k: p[k] for k in ("id", "name", "kind", "region_scope", "datasets")}
                      for p in items]}


@router.get("/changes", response_model=models.ChangesPublic, response_model_exclude_unset=True)
async def changes(pool: PoolDep, request: Request,
                  since: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 500):
    async with pool.acquire() as conn:
        rows = await store.records_after_seq(conn, since, limit)
        items = [service.record_event(r, r["dataset"]).model_dump(mode="json") for r in rows]
        items = await privacy.mask_changes(conn, items,  # issue 19: privacy
                                           principal_from_headers(request.headers))
    return {"items": items, "next": rows[-1]["seq"] if rows else since}


# --- internal: called by the gateway, ingest and search, never exposed publicly -----------


@internal.post("/auth/resolve")
async def resolve_key(body: models.KeyResolve, pool: PoolDep):
    async with pool.acquire() as conn:
        principal = await service.resolve_key(conn, body.key)
    return principal.model_dump()


@internal.post("/datasets/{slug}/validate")
async def validate(slug: str, body: models.ValidateRequest, request: Request, pool: PoolDep):
    principal = require_principal(request.headers)
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            outcome = await service.dry_run(conn, principal, slug, body.rows,
                                           locale=body.locale, sheet=body.sheet)
        finally:
            await tx.rollback()  # a dry run changes nothing, temp tables included
    return {"counts": outcome.counts.model_dump(),
            "rejected_rows": [r.model_dump() for r in outcome.rejected],
            "diff": json.loads(json.dumps(outcome.diff, default=str))}


@internal.post("/regions/resolve")
async def resolve_regions(body: models.ResolveRequest, pool: PoolDep):
    """Region cells as written -> Kemendagri code (null when refused), for ingest to find
    rows of one submission that name the same place differently."""
    async with pool.acquire() as conn:
        return {"codes": await service.resolve_cells(conn, body.dataset, body.values)}


@internal.get("/snapshot/{kind}")
async def snapshot(kind: Literal["regions", "datasets", "records"], pool: PoolDep,
                   after: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=5000)] = 1000):
    async with pool.acquire() as conn:
        if kind == "regions":
            items = [r.model_dump(mode="json") for r in await service.region_events(conn)]
            return {"items": items, "next": None}
        if kind == "datasets":
            items = [service.dataset_event(d).model_dump(mode="json")
                     for d in await store.list_datasets(conn, retracted=None)]
            return {"items": items, "next": None}
        try:
            after_id = uuid.UUID(after) if after else None
        except ValueError as exc:
            raise BadRequest("Kursor tidak valid.", code="invalid_cursor") from exc
        rows = await store.current_records_after(conn, after_id, limit)
        items = [service.record_event(r, r["dataset"]).model_dump(mode="json") for r in rows]
        items = await privacy.mask_snapshot(conn, items)  # issue 19: search indexes this
    return {"items": items, "next": str(rows[-1]["id"]) if len(rows) == limit else None}
