"""Routes of data requests (permohonan data): anyone may ask (the gateway limits how often per
address) and follow the status; the walidata extends once, answers or refuses, and enters
the collective leave days the due dates skip."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.registry.audit.web import AuditedConn
from services.registry.datarequests import models, service
from shared.web import MaybeCaller, ReadConn, Steward, WriteConn

router = APIRouter(prefix="/v1", tags=["data requests"])
Number = Annotated[str, Path(max_length=40)]


@router.post("/data-requests", response_model=models.RequestPublic, status_code=201,
             response_model_exclude_none=True)
async def ask(body: models.RequestCreate, conn: WriteConn):
    """A request for data that is not published: a number, a public status and the due date
    (10 working days after receipt)."""
    return await service.submit(conn, body.model_dump())


@router.get("/data-requests", response_model=models.RequestsPublic,
            response_model_exclude_none=True)
async def requests(conn: ReadConn, reader: MaybeCaller, status: Annotated[
        models.Status | None, Query()] = None, limit: Annotated[int, Query(ge=1, le=500)] = 200):
    return await service.listed(conn, reader, status, limit)


@router.get("/data-requests/{number}", response_model=models.RequestPublic,
            response_model_exclude_none=True)
async def request(number: Number, conn: ReadConn, reader: MaybeCaller):
    return await service.show(conn, reader, number)


@router.post("/data-requests/{number}/extend", response_model=models.RequestPublic,
             response_model_exclude_none=True, tags=["stewardship"])
async def extend(number: Number, body: models.Extension, steward: Steward, conn: AuditedConn):
    """Once, by 7 working days, with the written notice (published)."""
    return await service.extend(conn, steward, number, body.notice)


@router.post("/data-requests/{number}/answer", response_model=models.RequestPublic,
             response_model_exclude_none=True, tags=["stewardship"])
async def answer(number: Number, body: models.Decision, steward: Steward, conn: AuditedConn):
    return await service.decide(conn, steward, number, status="dijawab", answer=body.answer,
                                dataset=body.dataset)


@router.post("/data-requests/{number}/refuse", response_model=models.RequestPublic,
             response_model_exclude_none=True, tags=["stewardship"])
async def refuse(number: Number, body: models.Refusal, steward: Steward, conn: AuditedConn):
    return await service.decide(conn, steward, number, status="ditolak", answer=body.reason)


@router.get("/collective-leave", response_model=models.LeavePublic)
async def leave(conn: ReadConn, year: Annotated[int | None, Query(ge=2000, le=2100)] = None):
    """The collective leave days (cuti bersama) the due dates skip, besides weekends and
    national holidays."""
    return await service.leave(conn, year)


@router.put("/collective-leave/{year}", response_model=models.LeavePublic,
            tags=["stewardship"])
async def set_leave(year: Annotated[int, Path(ge=2000, le=2100)], body: models.LeaveYear,
                    steward: Steward, conn: AuditedConn):
    """Replace the year's collective leave days (the walidata enters them each year)."""
    return await service.set_leave(conn, steward, year, [d.model_dump() for d in body.days])
