"""Routes for privacy-safe publishing (issue 19): a dataset's suppression settings."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.registry import privacy
from services.registry.privacy_models import PrivacyPublic, PrivacyUpdate
from shared.auth import require_steward
from shared.web import PoolDep

router = APIRouter(prefix="/v1", tags=["privacy"])


@router.get("/datasets/{slug}/privacy", response_model=PrivacyPublic)
async def show_privacy(slug: str, pool: PoolDep):
    """Whether small counts of this dataset are hidden, and below which threshold (public:
    a reader knows why a cell is empty)."""
    async with pool.acquire() as conn:
        return await privacy.get_settings(conn, slug)


@router.put("/datasets/{slug}/privacy", response_model=PrivacyPublic)
async def put_privacy(slug: str, body: PrivacyUpdate, request: Request, pool: PoolDep):
    """Mark a dataset sensitive (walidata): every public read shows values 1..k-1 hidden,
    with enough other cells hidden that none can be recomputed from a total."""
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await privacy.put_settings(conn, slug, body.model_dump(), principal.publisher_id)
