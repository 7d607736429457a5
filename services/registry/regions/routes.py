"""Region routes: the tree, one region with its aliases, imports and the alias review
(walidata), and resolving cells for ingest."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request

from services.registry.regions import models
from services.registry.models import ReviewNote
from services.registry.regions import service
from services.registry.regions.uploads import rows_body
from shared.validation import INT64_MAX
from services.registry.audit.web import AuditedConn
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["registry"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"], include_in_schema=False)
AliasId = Annotated[int, Path(ge=1, le=INT64_MAX)]


@router.post("/regions/import", response_model=models.RegionImportResult,
             response_model_exclude_unset=True, tags=["stewardship"])
async def import_regions(request: Request, steward: Steward, conn: AuditedConn,
                         preview: Annotated[bool, Query(description="check and list what each "
                                                        "change touches; write nothing")] = False):
    """New codes, renames, retirements with successor, and dated changes (split, merge,
    code change, move, rename, creation) with their decree: JSON rows, a CSV body, or a CSV or
    XLSX file. ``?preview=true`` checks it all and lists what each change touches."""
    body = await rows_body(request, models.RegionImport)
    return await service.import_regions(conn, steward, [r.model_dump() for r in body.rows],
                                        sample=body.sample, preview=preview)


@router.get("/regions/changes", response_model=models.RegionChangesPublic,
            response_model_exclude_unset=True)
async def list_changes(conn: ReadConn, region: Annotated[str | None, Query(
        max_length=100, description="only the changes this code took part in")] = None):
    """Every dated region change (split, merge, code change, move, rename, creation), newest
    first, with its decree and a sentence in Indonesian."""
    return {"items": await service.list_changes(conn, region)}


@router.post("/regions/aliases/import", response_model=models.AliasImportResult,
             response_model_exclude_unset=True, tags=["stewardship"])
async def import_aliases(request: Request, steward: Steward, conn: AuditedConn,
                         source: Annotated[str | None, Query(
                             max_length=200, description="with a CSV body: where the file "
                             "came from")] = None):
    """Aliases land as ``pending`` (or ``refused`` with the reason) for review."""
    body = await rows_body(request, models.AliasImport)
    return await service.import_aliases(conn, steward, [r.model_dump() for r in body.rows],
                                        body.source)


@router.get("/regions/aliases", response_model=models.AliasesPublic,
            response_model_exclude_unset=True, tags=["stewardship"])
async def list_aliases(_: Steward, conn: ReadConn,
                       status: Literal["pending", "active", "refused"] | None = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                       cursor: str | None = None):
    items, next_cursor = await service.list_aliases(conn, status, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/regions/aliases/{alias_id}/approve", response_model=models.AliasPublic,
             response_model_exclude_unset=True, tags=["stewardship"])
async def approve_alias(alias_id: AliasId, steward: Steward, conn: AuditedConn,
                        body: ReviewNote | None = None):
    return await service.review_alias(conn, steward, alias_id, "active",
                                      body.note if body else None)


@router.post("/regions/aliases/{alias_id}/refuse", response_model=models.AliasPublic,
             response_model_exclude_unset=True, tags=["stewardship"])
async def refuse_alias(alias_id: AliasId, steward: Steward, conn: AuditedConn,
                       body: ReviewNote | None = None):
    return await service.review_alias(conn, steward, alias_id, "refused",
                                      body.note if body else None)


@router.get("/regions", response_model=models.RegionsPublic, response_model_exclude_unset=True)
async def list_regions(conn: ReadConn, tree: bool = False):
    items, count = await service.list_regions(conn, tree=tree)
    return {"items": items, "count": count, "next_cursor": None}


@router.get("/regions/{code}", response_model=models.RegionDetail,
            response_model_exclude_unset=True)
async def show_region(code: str, conn: ReadConn):
    return await service.region_detail(conn, code)


@internal.post("/regions/resolve")
async def resolve_regions(body: models.ResolveRequest, conn: ReadConn):
    """Region cells as written -> Kemendagri code (null when refused), for ingest to find
    rows of one submission that name the same place differently."""
    return {"codes": await service.resolve_cells(conn, body.dataset, body.values)}
