"""Conflict routes: publishers see their own, the walidata settles them."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.registry.conflicts import models
from services.registry.models import ReviewNote
from services.registry.conflicts import service
from services.registry.audit.web import AuditedConn
from shared.web import Caller, ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["stewardship"])


@router.get("/conflicts", response_model=models.ConflictsPublic)
async def list_conflicts(
    caller: Caller, conn: ReadConn, dataset: str | None = None,
    status: Literal["open", "accepted", "rejected", "superseded", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: str | None = None,
):
    items, next_cursor = await service.list_conflicts(
        conn, caller, dataset=dataset, status=None if status == "all" else status,
        cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/conflicts/{conflict_id}", response_model=models.ConflictPublic)
async def show_conflict(conflict_id: uuid.UUID, caller: Caller, conn: ReadConn):
    return await service.get_conflict(conn, caller, conflict_id)


@router.post("/conflicts/{conflict_id}/accept", response_model=models.ConflictPublic)
async def accept_conflict(conflict_id: uuid.UUID, steward: Steward, conn: AuditedConn,
                          body: ReviewNote | None = None):
    return await service.accept_conflict(conn, steward, conflict_id,
                                         body.note if body else None)


@router.post("/conflicts/{conflict_id}/reject", response_model=models.ConflictPublic)
async def reject_conflict(conflict_id: uuid.UUID, body: models.RejectNote, steward: Steward,
                          conn: AuditedConn):
    return await service.reject_conflict(conn, steward, conflict_id, body.note)
