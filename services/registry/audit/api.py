"""GET /v1/audit: the audit log, for the walidata and admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.registry.audit import models, store
from shared.auth import require_steward
from shared.validation import INT64_MAX
from shared.web import PoolDep

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get("/audit", response_model=models.AuditPage)
async def audit_log(request: Request, pool: PoolDep,
                    action: Annotated[str | None, Query(max_length=64, description=(
                        "an action (key.revoke) or its family (key)"))] = None,
                    actor: Annotated[str | None, Query(max_length=200)] = None,
                    target: Annotated[str | None, Query(max_length=200)] = None,
                    before: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Newest first; ``next`` is the ``before`` of the following page. Each entry carries
    its chain link (``prev_hash``, ``hash``), which ``satudata verify`` recomputes."""
    require_steward(request.headers)
    async with pool.acquire() as conn:
        items = await store.entries(conn, action=action, actor=actor, target=target,
                                    before=before, limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next": items[-1]["id"] if more else None}
