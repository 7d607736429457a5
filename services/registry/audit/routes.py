"""GET /v1/audit: the audit log, for the walidata and admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.audit import models, service
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit", response_model=models.AuditPage)
async def audit_log(_: Steward, conn: ReadConn,
                    action: Annotated[str | None, Query(max_length=64, description=(
                        "an action (key.revoke) or its family (key)"))] = None,
                    actor: Annotated[str | None, Query(max_length=200)] = None,
                    target: Annotated[str | None, Query(max_length=200)] = None,
                    cursor: str | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Newest first. Each entry carries its chain link (``prev_hash``, ``hash``), which
    ``satudata verify`` recomputes."""
    items, next_cursor = await service.list_entries(conn, action=action, actor=actor,
                                                    target=target, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}
