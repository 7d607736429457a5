"""The OpenSID door's file route: a village uploads OpenSID's population export (the XLSX, or
the zip its OpenDK sync builds) and the platform submits the counts; nothing personal is kept
(services/ingest/opensid.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.ingest import opensid
from services.ingest.routes import RegistryDep, SettingsDep
from services.ingest.uploads import limited_request
from shared.errors import AppError, UnsupportedMediaType
from shared.pagination import Page
from shared.web import Caller, PoolDep, Steward

router = APIRouter(tags=["ingest"])
EXPORT_BODY = {"required": True, "content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in opensid.ZIP_TYPES}}


@router.post("/v1/opensid/population", status_code=202, response_model=dict[str, Any],
             openapi_extra={"requestBody": EXPORT_BODY})
async def population(
    request: Request, principal: Caller, pool: PoolDep, registry: RegistryDep,
    settings: SettingsDep,
    dataset: Annotated[str, Query(max_length=100, description="the population dataset (its "
                                  "dimensions jenis_kelamin and kelompok_umur)")],
    region: Annotated[str | None, Query(max_length=40, description="the village (default: "
                                        "the key's own)")] = None,
    period: Annotated[str | None, Query(max_length=20, description="default: the period of "
                                        "today (WITA) at the dataset's frequency")] = None,
    dry_run: Annotated[bool, Query(description="count and check only; store nothing")] = False,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
):
    """OpenSID's population export, counted in memory: living persons per sex and five-year
    age group at the export date. NIK, KK, names, birth dates and photos never land."""
    connectors = request.app.state.connectors
    try:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in opensid.ZIP_TYPES:
            raise UnsupportedMediaType("Kirim berkas ekspor OpenSID apa adanya (XLSX atau zip) "
                                       "sebagai isi permintaan.", code="unsupported_media_type")
        raw = await limited_request(request, settings).body()
        body = await opensid.population(pool, registry, settings, principal, dataset=dataset,
                                        raw=raw, region=region, period=period,
                                        dry_run=dry_run, idempotency_key=idempotency_key)
    except AppError as exc:
        connectors.stopped("opensid", exc.status_code)
        raise
    connectors.received("opensid", 0 if dry_run or body.get("replayed") else body["rows"])
    return JSONResponse(jsonable_encoder(body),
                        status_code=200 if dry_run or body.get("replayed") else 202)


class Sync(BaseModel):
    id: str
    publisher_id: str
    dataset: str
    rows: int
    status: str
    created_at: datetime


class Syncs(Page[Sync]):
    pass


@router.get("/v1/opensid/syncs", response_model=Syncs)
async def syncs(_: Steward, pool: PoolDep):
    """Each village's last OpenSID sync (file or door): when, into which dataset, how many
    count rows and how it ended (the walidata)."""
    return {"items": await opensid.last_syncs(pool), "next_cursor": None}
