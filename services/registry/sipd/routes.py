"""SIPD e-Walidata routes (walidata): map a measure to an indicator, see what was pushed and
what waits, queue what is ready now."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.audit.web import AuditedConn
from services.registry.sipd import models, service
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["sipd"])


@router.post("/sipd/indicators", response_model=models.IndicatorPublic, status_code=201,
             tags=["stewardship"])
async def add_indicator(body: models.IndicatorCreate, steward: Steward, conn: AuditedConn):
    """A dataset measure (summed at the regency, optionally filtered by dimensions) is this
    SIPD indicator; annual datasets only."""
    return await service.add_indicator(conn, steward, body.model_dump())


@router.get("/sipd/indicators", response_model=models.IndicatorsPublic, tags=["stewardship"])
async def indicators(_: Steward, conn: ReadConn):
    return {"items": await service.indicators(conn)}


@router.get("/sipd/status", response_model=models.SipdStatus, tags=["stewardship"])
async def status(_: Steward, conn: ReadConn):
    """Per indicator and year: sent, waiting (and for what), refused (SIPD's message)."""
    return await service.status(conn)


@router.post("/sipd/run", response_model=models.ScanResult, tags=["stewardship"])
async def run(_: Steward, conn: AuditedConn):
    """Queue every year ready now (the background loop also does, every
    REGISTRY_SIPD_INTERVAL seconds, and sends what is queued)."""
    return {"queued": await service.scan(conn)}
