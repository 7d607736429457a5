"""Dataset routes: the catalogue, create and update (walidata), withdraw and restore."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.models import RetractNote
from services.registry.datasets.models import (DatasetCreate, DatasetPublic, DatasetsPublic,
                                               DatasetUpdate)
from services.registry.datasets import service
from services.registry.audit.web import AuditedConn
from shared.web import MaybeCaller, ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get("/datasets", response_model=DatasetsPublic)
async def list_datasets(conn: ReadConn, caller: MaybeCaller, retracted: Annotated[bool, Query(
        description="true: the withdrawn datasets instead (walidata)")] = False):
    items = await service.catalogue(conn, retracted=retracted, reader=caller)
    return {"items": items, "count": len(items), "next_cursor": None}


@router.get("/datasets/{slug}", response_model=DatasetPublic)
async def show_dataset(slug: str, conn: ReadConn, caller: MaybeCaller):
    """410 with the reason once withdrawn (the walidata still sees it, to restore it)."""
    return await service.show_dataset(conn, slug, reader=caller)


@router.post("/datasets", response_model=DatasetPublic, status_code=201)
async def create_dataset(body: DatasetCreate, conn: AuditedConn, steward: Steward):
    return await service.create_dataset(conn, body.model_dump(by_alias=True), by=steward)


@router.patch("/datasets/{slug}", response_model=DatasetPublic)
async def update_dataset(slug: str, body: DatasetUpdate, conn: AuditedConn, steward: Steward):
    return await service.update_dataset(conn, steward, slug,
                                        body.model_dump(by_alias=True, exclude_unset=True))


@router.post("/datasets/{slug}/retract", response_model=DatasetPublic)
async def retract_dataset(slug: str, body: RetractNote, conn: AuditedConn,
                          steward: Steward):
    """Hidden from the catalogue, search, CKAN and exports; its URLs answer 410 with the
    reason until restored (walidata)."""
    return await service.retract_dataset(conn, steward, slug, body.reason)


@router.post("/datasets/{slug}/restore", response_model=DatasetPublic)
async def restore_dataset(slug: str, conn: AuditedConn, steward: Steward):
    return await service.restore_dataset(conn, steward, slug)
