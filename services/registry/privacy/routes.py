"""Privacy routes: a dataset's suppression settings."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.privacy import service
from services.registry.privacy.models import PrivacyPublic
from shared.web import ReadConn

router = APIRouter(prefix="/v1", tags=["privacy"])


@router.get("/datasets/{slug}/privacy", response_model=PrivacyPublic)
async def show_privacy(slug: str, conn: ReadConn):
    """Whether small counts of this dataset are hidden, and below which threshold (public:
    a reader knows why a cell is empty)."""
    return await service.get_settings(conn, slug)
