"""Routes of citizens' reports on figures: anyone may report (the gateway limits how often
per address), the walidata answers."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.registry.audit.web import AuditedConn
from services.registry.feedback import models, service
from shared.web import MaybeCaller, ReadConn, Steward, WriteConn

router = APIRouter(prefix="/v1", tags=["feedback"])


@router.post("/feedback", response_model=models.ReportPublic, status_code=201,
             response_model_exclude_none=True)
async def report(body: models.ReportCreate, conn: WriteConn):
    """"Laporkan angka ini": a figure a citizen believes is wrong. No account; the contact
    is optional, never published, and deleted after the retention period."""
    return await service.submit(conn, body.model_dump())


@router.get("/feedback", response_model=models.ReportsPublic, response_model_exclude_none=True)
async def reports(conn: ReadConn, reader: MaybeCaller, dataset: str | None = None,
                  status: Literal["open", "answered"] | None = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 200):
    """Reports newest first: the public sees which figures are under review and the answers;
    the walidata also the message and the contact."""
    return await service.listed(conn, reader, dataset=dataset, status=status, limit=limit)


@router.post("/feedback/{report_id}/answer", response_model=models.ReportPublic,
             response_model_exclude_none=True, tags=["stewardship"])
async def answer(report_id: uuid.UUID, body: models.ReportAnswer, steward: Steward,
                 conn: AuditedConn):
    """The walidata's answer: published with the report; the figure is no longer marked."""
    return await service.answer(conn, steward, report_id, body.answer)
