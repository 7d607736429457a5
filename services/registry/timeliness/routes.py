"""Timeliness routes: schedules, who is late, reminders and their log, templates."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.registry.datasets.models import UpToDateness
from services.registry.timeliness import models, reminders, service, templates
from services.registry.timeliness.settings import TimelinessSettings
from services.registry.audit.web import AuditedConn
from shared.web import Caller, ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["timeliness"])
KECAMATAN = Query(description="kecamatan code, e.g. 64.08.04")


async def timeliness_settings(request: Request) -> TimelinessSettings:
    """Built by create_app, handed to requests by the lifespan's state."""
    return request.state.timeliness


Settings = Annotated[TimelinessSettings, Depends(timeliness_settings)]


@router.get("/datasets/{slug}/schedule", response_model=models.SchedulePublic)
async def get_schedule(slug: str, conn: ReadConn):
    """Grace period (days after a period ends) and the next and latest due dates."""
    return await service.schedule(conn, slug)


@router.put("/datasets/{slug}/schedule", response_model=models.SchedulePublic)
async def put_schedule(slug: str, body: models.ScheduleUpdate, conn: AuditedConn,
                       steward: Steward):
    """The walidata sets the grace period of a dataset."""
    return await service.set_schedule(conn, steward, slug, body.grace_days)


@router.get("/datasets/{slug}/currency", response_model=UpToDateness)
async def get_currency(slug: str, conn: ReadConn):
    """When the dataset last changed and whether it is current for its frequency."""
    return await service.currency_of(conn, slug)


@router.get("/timeliness", response_model=models.TimelinessPublic)
async def timeliness(conn: ReadConn, dataset: str | None = None,
                     period: Annotated[str | None, Query(
                         description="one period (with dataset); default: the latest due "
                                     "period and the next one")] = None,
                     publisher: str | None = None,
                     kecamatan: Annotated[str | None, KECAMATAN] = None):
    """Per dataset, period and expected unit: on_time, late (sent after the due date),
    missing (nothing sent and the due date has passed) or not_yet_due."""
    return await service.report(conn, dataset=dataset, period=period, publisher=publisher,
                                kecamatan=kecamatan)


@router.get("/timeliness/mine", response_model=models.OverduePublic)
async def my_overdue(conn: ReadConn, caller: Caller):
    """What the caller's publisher still owes past its due date (walidata: everyone)."""
    return await service.overdue_for(conn, caller)


@router.get("/reminders", response_model=models.RemindersPublic)
async def reminder_log(conn: ReadConn, caller: Caller,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                       cursor: str | None = None):
    """The reminder log, newest first, with each delivery's state (walidata: all; a
    publisher: its own)."""
    items, next_cursor = await service.reminder_log(conn, caller, cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.post("/reminders/run", response_model=models.ScanResult)
async def run_reminders(conn: AuditedConn, settings: Settings, _: Steward):
    """Scan now instead of waiting for the next round (walidata); sends nothing twice."""
    return {"created": await reminders.scan_once(conn, settings)}


@router.put("/publishers/{publisher_id}/contact", response_model=models.ContactPublic)
async def put_contact(publisher_id: str, body: models.ContactUpdate, conn: AuditedConn,
                      _: Steward):
    """The e-mail address reminders go to (walidata)."""
    return await service.set_contact(conn, publisher_id, body.email)


TEMPLATE_ANSWER = {200: {"description": "the template (CSV or XLSX)", "content": {
    "text/csv": {"schema": {"type": "string"}, "example": (
        "kode_wilayah,nama_wilayah,periode,jenis_kelamin,jumlah\r\n"
        "64.08.04.2001,Sangatta Utara,2025,L,\r\n")},
    templates.XLSX: {"schema": {"type": "string", "format": "binary"}, "example": "(XLSX)"}}}}


@router.get("/datasets/{slug}/template", response_class=Response, responses=TEMPLATE_ANSWER)
async def template(slug: str, conn: ReadConn, caller: Caller,
                   format: Literal["csv", "xlsx"] = "xlsx",
                   period: str | None = None,
                   locale: Literal["en", "id"] = "en"):
    """The caller's units and the due period filled in, measures blank: fill and upload."""
    body, media, name = await templates.template(conn, caller, slug, period=period,
                                                 format=format, locale=locale)
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

