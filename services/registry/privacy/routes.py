"""Privacy routes (issue 19): a dataset's suppression settings."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.privacy import service
from services.registry.privacy.models import PrivacyPublic, PrivacyUpdate
from services.registry.audit.web import AuditedConn
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["privacy"])


@router.get("/datasets/{slug}/privacy", response_model=PrivacyPublic)
async def show_privacy(slug: str, conn: ReadConn):
    """Whether small counts of this dataset are hidden, and below which threshold (public:
    a reader knows why a cell is empty)."""
    return await service.get_settings(conn, slug)


@router.put("/datasets/{slug}/privacy", response_model=PrivacyPublic)
async def put_privacy(slug: str, body: PrivacyUpdate, steward: Steward, conn: AuditedConn):
    """Mark a dataset sensitive (walidata): every public read shows values 1..k-1 hidden,
    with enough other cells hidden that none can be recomputed from a total."""
    return await service.put_settings(conn, steward, slug, body.model_dump())
