"""EPSS routes (walidata): the year's evidence from the records, as JSON or a workbook to
hand over, and the self-assessment that links it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.registry.audit.web import AuditedConn
from services.registry.epss import models, service
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["epss"])
Year = Annotated[int, Query(ge=2000, le=2100)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/epss/evidence", response_model=models.Evidence, tags=["stewardship"],
            responses={200: {"content": {XLSX: {
                "schema": {"type": "string", "format": "binary"},
                "example": "(a workbook: Ringkasan, one sheet per indicator, Penilaian mandiri)"}},
                "description": "the evidence; with ?format=xlsx, a workbook"}})
async def evidence(_: Steward, conn: ReadConn, year: Year,
                   format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json"):
    """Facts for each EPSS indicator the records can show, with the datasets behind them;
    ``?format=xlsx``: a workbook (summary, one sheet per indicator, the self-assessment)."""
    body = await service.evidence(conn, year)
    if format == "json":
        return body
    return Response(service.evidence_xlsx(body, await service.assessment(conn, year)),
                    media_type=XLSX, headers={
                        "Content-Disposition": f'attachment; filename="bukti-epss-{year}.xlsx"'})


@router.get("/epss/assessment/{year}", response_model=models.AssessmentOut,
            tags=["stewardship"])
async def assessment(year: Annotated[int, Path(ge=2000, le=2100)], _: Steward,
                     conn: ReadConn):
    return await service.assessment(conn, year)


@router.put("/epss/assessment/{year}", response_model=models.AssessmentOut,
            tags=["stewardship"])
async def assess(year: Annotated[int, Path(ge=2000, le=2100)], body: models.AssessmentIn,
                 steward: Steward, conn: AuditedConn):
    """The maturity level the walidata chose per indicator, with a note and the evidence."""
    return await service.assess(conn, steward, year, [i.model_dump() for i in body.items])


@router.get("/epss/plan/{year}", response_model=models.PlanOut, tags=["stewardship"])
async def plan(year: Annotated[int, Path(ge=2000, le=2100)], _: Steward, conn: ReadConn):
    """The year's Daftar Data, each item fulfilled, late or missing."""
    return await service.plan_status(conn, year)


@router.put("/epss/plan/{year}", response_model=models.PlanOut, tags=["stewardship"])
async def set_plan(year: Annotated[int, Path(ge=2000, le=2100)], body: models.PlanIn,
                   steward: Steward, conn: AuditedConn):
    """Replace the year's Daftar Data (the list agreed in the Forum Satu Data)."""
    return await service.set_plan(conn, steward, year, [i.model_dump() for i in body.items])
