"""HTTP routes of the ingest service: parse the request, call the service, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse

from services.ingest import service
from services.ingest.models import (DryRunResult, SubmissionAccepted, SubmissionCreate,
                                    SubmissionPublic, SubmissionsPublic)
from services.ingest.registry_client import RegistryClient
from services.ingest.settings import IngestSettings
from services.ingest.uploads import read_upload
from shared.web import Caller, PoolDep


async def get_registry(request: Request) -> RegistryClient:
    return request.state.registry


async def get_settings(request: Request) -> IngestSettings:
    return request.app.state.settings


RegistryDep = Annotated[RegistryClient, Depends(get_registry)]
SettingsDep = Annotated[IngestSettings, Depends(get_settings)]

router = APIRouter(prefix="/v1", tags=["submissions"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SAMPLE_CSV = ("region,period,jenis_kelamin,jumlah\n64.08.04.2001,2024,L,2315\n"
              "64.08.04.2001,2024,P,2240\n")
# The body is read by hand (streamed, size-limited), so FastAPI cannot infer it: the three ways
# to send rows are documented here, each with an example.
SUBMISSION_BODY = {"required": True, "content": {
    "application/json": {
        "schema": SubmissionCreate.model_json_schema(),
        "example": {"dataset": "jumlah-penduduk", "rows": [
            {"region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "L", "jumlah": 2315},
            {"region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "P", "jumlah": 2240}]}},
    "multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": {
            "dataset": {"type": "string", "description": "dataset slug (or ?dataset=)"},
            "file": {"type": "string", "format": "binary",
                     "description": "CSV (UTF-8, comma or semicolon) or XLSX (first sheet); "
                                    "first row = column names"}}},
        "encoding": {"file": {"contentType": f"text/csv, {XLSX}"}},
        "example": {"dataset": "jumlah-penduduk", "file": "penduduk-2024.xlsx"}},
    "text/csv": {"schema": {"type": "string", "description": "raw CSV; dataset in ?dataset="},
                 "example": SAMPLE_CSV},
    XLSX: {"schema": {"type": "string", "format": "binary",
                      "description": "raw XLSX workbook; dataset in ?dataset="}},
}}

BACKLOG_FULL = {
    "description": "this publisher's own backlog (rows accepted, not yet processed by the "
                   "registry) is past INGEST_MAX_PENDING_ROWS: send again after Retry-After "
                   "seconds; other publishers are unaffected (or rate_limited by the gateway)",
    "headers": {"Retry-After": {"schema": {"type": "integer"},
                                "description": "seconds to wait before trying again"}},
    "content": {"application/json": {
        "schema": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "details": {"type": "array", "items": {"type": "object"}}}}}},
        "example": {"error": {
            "code": "backlog_full",
            "message": "Antrean kiriman Anda masih 2000500 baris yang belum diproses (batas "
                       "2000000). Kirim ulang setelah 30 detik.",
            "details": [{"pending_rows": 2000500, "max_pending_rows": 2000000,
                         "retry_after": 30}]}}}}}


@router.post("/submissions", status_code=202, response_model=SubmissionAccepted,
             responses={200: {"model": DryRunResult,
                              "description": "dry run (nothing stored), or the original "
                                             "submission of an Idempotency-Key retry"},
                        429: BACKLOG_FULL},
             openapi_extra={"requestBody": SUBMISSION_BODY})
async def create_submission(
    request: Request, principal: Caller, pool: PoolDep, registry: RegistryDep,
    settings: SettingsDep,
    dataset: Annotated[str | None, Query(description="dataset slug (raw CSV/XLSX bodies)")] = None,
    dry_run: Annotated[bool, Query(description="validate only; store nothing")] = False,
    locale: Annotated[str | None, Query(
        description="numbers written as text: id (2.000,5; the default) or en (2,000.5)")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
):
    slug, upload = await read_upload(request, settings, dataset, locale)
    try:
        if dry_run:
            result = await service.dry_run(registry, settings, principal, slug, upload)
            return JSONResponse(DryRunResult(**result).model_dump(mode="json"))
        accepted = await service.submit(pool, registry, settings, principal, slug, upload,
                                        idempotency_key=idempotency_key)
    finally:
        if upload.path is not None:
            upload.path.unlink(missing_ok=True)
    body = SubmissionAccepted(**accepted.body, replayed=accepted.replayed)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if accepted.replayed else 202,
                        headers={"Location": body.status_url})


@router.get("/submissions", response_model=SubmissionsPublic)
async def list_submissions(
    principal: Caller, pool: PoolDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
):
    return await service.list_submissions(pool, principal, limit, cursor)


@router.get("/submissions/{submission_id}", response_model=SubmissionPublic)
async def get_submission(submission_id: uuid.UUID, principal: Caller, pool: PoolDep,
                         settings: SettingsDep):
    return await service.get_submission(pool, principal, submission_id,
                                        settings.max_rejected_shown, settings.stall_after)
