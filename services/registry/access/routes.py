"""Publisher and key routes (walidata), and the key resolution the gateway calls."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.access import models
from services.registry.access import service
from services.registry.audit.web import AuditedConn
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["stewardship"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"], include_in_schema=False)


@router.get("/publishers", response_model=models.PublishersList, response_model_exclude_unset=True)
async def list_publishers(conn: ReadConn):
    return {"items": await service.list_publishers(conn), "next_cursor": None}


@router.post("/publishers", response_model=models.PublisherPublic, status_code=201)
async def create_publisher(body: models.PublisherCreate, conn: AuditedConn, steward: Steward):
    return await service.create_publisher(conn, steward, body.model_dump())


@router.patch("/publishers/{publisher_id}", response_model=models.PublisherPublic)
async def update_publisher(publisher_id: str, body: models.PublisherUpdate, conn: AuditedConn,
                           steward: Steward):
    return await service.update_publisher(conn, steward, publisher_id,
                                          body.model_dump(exclude_unset=True))


@router.post("/keys", response_model=models.KeyCreated, status_code=201)
async def create_key(body: models.KeyCreate, conn: AuditedConn, steward: Steward):
    """The raw key is in this response only; the registry keeps its hash."""
    return await service.issue_key(conn, steward, body.model_dump())


@router.get("/keys", response_model=models.KeysPublic, response_model_exclude_unset=True)
async def list_keys(conn: ReadConn, _: Steward, publisher: str | None = None):
    items = await service.list_keys(conn, publisher)
    return {"items": [models.KeyPublic(**k).model_dump(mode="json") for k in items],
            "next_cursor": None}


@router.post("/keys/{key_id}/revoke", response_model=models.KeyPublic)
async def revoke_key(key_id: str, conn: AuditedConn, steward: Steward):
    return await service.revoke_key(conn, steward, key_id)


@internal.post("/auth/resolve")
async def resolve_key(body: models.KeyResolve, conn: ReadConn):
    principal = await service.resolve_key(conn, body.key)
    return principal.model_dump()
