"""Timeliness routes: schedules, who is late, reminders and their log, templates."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response

from services.registry.timeliness import models, service, tasks, templates
from services.registry.timeliness.settings import TimelinessSettings
from shared.auth import require_principal, require_steward
from shared.web import PoolDep

router = APIRouter(prefix="/v1", tags=["timeliness"])
KECAMATAN = Query(description="kecamatan code, e.g. 64.08.04")


def install(app: FastAPI) -> None:
    """The registry's one hook: routes, and the settings the lifespan's loops read."""
    app.state.timeliness = TimelinessSettings()
    app.include_router(router)


@router.get("/datasets/{slug}/schedule", response_model=models.SchedulePublic)
async def get_schedule(slug: str, pool: PoolDep):
    """Grace period (days after a period ends) and the next and latest due dates."""
    async with pool.acquire() as conn:
        return await service.schedule(conn, slug)


@router.put("/datasets/{slug}/schedule", response_model=models.SchedulePublic)
async def put_schedule(slug: str, body: models.ScheduleUpdate, request: Request,
                       pool: PoolDep):
    """The walidata sets the grace period of a dataset."""
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await service.set_schedule(conn, principal, slug, body.grace_days)


@router.get("/datasets/{slug}/currency", response_model=models.UpToDateness)
async def get_currency(slug: str, pool: PoolDep):
    """When the dataset last changed and whether it is current for its frequency."""
    async with pool.acquire() as conn:
        return await service.currency_of(conn, slug)


@router.get("/timeliness", response_model=models.TimelinessPublic)
async def timeliness(pool: PoolDep, dataset: str | None = None,
                     period: Annotated[str | None, Query(
                         description="one period (with dataset); default: the latest due "
                                     "period and the next one")] = None,
                     publisher: str | None = None,
                     kecamatan: Annotated[str | None, KECAMATAN] = None):
    """Per dataset, period and expected unit: on_time, late (sent after the due date),
    missing (nothing sent and the due date has passed) or not_yet_due."""
    async with pool.acquire() as conn:
        return await service.report(conn, dataset=dataset, period=period,
                                    publisher=publisher, kecamatan=kecamatan)


@router.get("/timeliness/mine", response_model=models.OverduePublic)
async def my_overdue(request: Request, pool: PoolDep):
    """What the caller's publisher still owes past its due date (walidata: everyone)."""
    principal = require_principal(request.headers)
    async with pool.acquire() as conn:
        return await service.overdue_for(conn, principal)


@router.get("/reminders", response_model=models.RemindersPublic)
async def reminders(request: Request, pool: PoolDep,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 200):
    """The reminder log with each delivery's state (walidata: all; a publisher: its own)."""
    principal = require_principal(request.headers)
    async with pool.acquire() as conn:
        return await service.reminder_log(conn, principal, limit)


@router.post("/reminders/run", response_model=models.ScanResult)
async def run_reminders(request: Request, pool: PoolDep):
    """Scan now instead of waiting for the next round (walidata); sends nothing twice."""
    require_steward(request.headers)
    return {"created": await tasks.run_scan(pool, request.app.state.timeliness)}


@router.put("/publishers/{publisher_id}/contact", response_model=models.ContactPublic)
async def put_contact(publisher_id: str, body: models.ContactUpdate, request: Request,
                      pool: PoolDep):
    """The e-mail address reminders go to (walidata)."""
    require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await service.set_contact(conn, publisher_id, body.email)


TEMPLATE_ANSWER = {200: {"description": "the template (CSV or XLSX)", "content": {
    "text/csv": {"schema": {"type": "string"}, "example": (
        "kode_wilayah,nama_wilayah,periode,jenis_kelamin,jumlah\r\n"
        "64.08.04.2001,Sangatta Utara,2025,L,\r\n")},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}, "example": "(XLSX)"}}}}


@router.get("/datasets/{slug}/template", response_class=Response, responses=TEMPLATE_ANSWER)
async def template(slug: str, request: Request, pool: PoolDep,
                   format: Literal["csv", "xlsx"] = "xlsx",
                   period: str | None = None,
                   locale: Literal["en", "id"] = "en"):
    """The caller's units and the due period filled in, measures blank: fill and upload."""
    principal = require_principal(request.headers)
    async with pool.acquire() as conn:
        dataset, period, header, rows = await templates.template_rows(conn, principal, slug,
                                                                      period)
    name = f"templat-{slug}-{period}-{principal.publisher_id}"
    if format == "csv":
        body, media = templates.as_csv(header, rows, locale), "text/csv; charset=utf-8"
    else:
        body = templates.as_xlsx(header, rows, f"{dataset['title']} periode {period}")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}.{format}"'})
