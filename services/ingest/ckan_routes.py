"""CKAN write compatibility: ``datastore_create`` and ``datastore_upsert`` become submissions.

Kutai Timur's agencies already push with CKAN clients (ckanapi). A ``resource_id`` names a
dataset: either the slug itself, or an entry of ``INGEST_CKAN_RESOURCE_MAP``. Answers and errors
take CKAN's shape (``{"help", "success", "result"}`` / ``{"success": false, "error": {"__type"}}``)
so those clients need no change besides the base URL.

Records are validated by the registry before anything is stored: a call with any invalid record
is refused whole (``Validation Error``, 409) naming each invalid record by its index, as CKAN's
datastore refuses a bad upsert, instead of being accepted and failing later.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from services.ingest import service
from services.ingest.routes import get_registry, get_settings
from services.ingest.models import CkanDatastoreRequest
from services.ingest.service import Upload
from services.ingest.uploads import limited_request
from shared.ckan import envelope, error_envelope
from shared.errors import AppError, NotFound, Unprocessable, UnsupportedMediaType
from shared.web import caller, get_pool
from shared.i18n import validation_details

ACTIONS = ("datastore_create", "datastore_upsert")

router = APIRouter(tags=["ckan"])


def _ckan_error(request: Request, action: str, exc: AppError) -> JSONResponse:
    """The one CKAN error envelope (shared.ckan); CKAN answers validation errors with 409,
    413/415/429 kept where they say more (429 and 503 with their Retry-After)."""
    status = exc.status_code
    if status < 500 and status not in (401, 403, 404, 413, 415, 429):
        status = 409
    base = ""  # relative: behind the gateway, this service's own address means nothing
    body = error_envelope(base, action, status, {"code": exc.code, "message": exc.message,
                                                 "details": exc.details},
                          "Internal Server Error" if status >= 500 else None)
    return JSONResponse(body, status_code=status, headers=exc.headers)


def _resource_to_dataset(body: CkanDatastoreRequest, mapping: dict[str, str]) -> str:
    resource_id = body.resource_id or (body.resource or {}).get("package_id")
    if not resource_id:
        raise Unprocessable("resource_id wajib diisi.", code="resource_id_required",
                            details=[{"field": "resource_id"}])
    return mapping.get(resource_id, resource_id)


async def _action(request: Request, action: str, idempotency_key: str | None):
    if action not in ACTIONS:
        raise NotFound(f"Aksi '{action}' tidak tersedia di sini; yang didukung: "
                       f"{', '.join(ACTIONS)}.", code="action_not_found")
    # the Caller dependency's function, called here so its 401 comes in CKAN's envelope
    principal = await caller(request)
    settings = await get_settings(request)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("application/json", ""):
        raise UnsupportedMediaType("Kirim isi JSON (application/json).")
    raw = await limited_request(request, settings, in_memory=True).body()
    try:
        body = CkanDatastoreRequest.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise Unprocessable(
            "Isi permintaan tidak valid.", code="malformed_json",
            details=validation_details(exc.errors(), drop=(), limit=20)) from exc
    dataset = _resource_to_dataset(body, settings.ckan_resource_map)
    registry = await get_registry(request)
    result = {"resource_id": body.resource_id, "method": body.method,
              "fields": body.fields, "primary_key": body.primary_key}
    if not body.records:  # datastore_create with a definition only: the registry owns it
        await service.dataset_fields(registry, principal, dataset)
        return {**result, "records_count": 0, "submission_id": None, "dataset": dataset}
    upload = Upload(kind="ckan", rows=body.records)
    if body.dry_run:
        summary = await service.dry_run(registry, settings, principal, dataset, upload)
        return {**result, "records_count": summary["rows"], "dataset": dataset, "dry_run": True,
                "counts": summary["counts"], "rejected_rows": summary["rejected_rows"],
                "warnings": summary["warnings"], "submission_id": None}
    checked = await service.dry_run(registry, settings, principal, dataset, upload)
    if checked["rejected_rows"]:
        raise Unprocessable(
            f"{len({r.get('index') for r in checked['rejected_rows']})} dari "
            f"{checked['rows']} baris tidak valid; tidak ada yang disimpan. Perbaiki baris yang "
            "disebut lalu kirim ulang.", code="rows_rejected",
            details=checked["rejected_rows"][:settings.max_rejected_shown])
    pool = await get_pool(request)
    accepted = await service.submit(pool, registry, settings, principal, dataset, upload,
                                    idempotency_key=idempotency_key)
    return {**result, "records_count": accepted.body["rows"], "dataset": dataset,
            "submission_id": str(accepted.body["id"]), "status": accepted.body["status"],
            "status_url": accepted.body["status_url"], "warnings": accepted.body["warnings"],
            "replayed": accepted.replayed}


async def _respond(request: Request, action: str, idempotency_key: str | None) -> JSONResponse:
    connectors = request.app.state.connectors
    try:
        result = await _action(request, action, idempotency_key)
    except AppError as exc:
        connectors.stopped("ckan", exc.status_code)
        return _ckan_error(request, action, exc)
    connectors.received("ckan", 0 if result.get("dry_run") or result.get("replayed")
                        else result["records_count"])
    base = ""  # relative: behind the gateway, this service's own address means nothing
    return JSONResponse(json.loads(json.dumps(envelope(base, action, result), default=str)))


@router.post("/api/3/action/{action}", name="ckan_action_v3")
async def ckan_action_v3(request: Request, action: str,
                         idempotency_key: Annotated[str | None,
                                                    Header(alias="Idempotency-Key")] = None):
    return await _respond(request, action, idempotency_key)


@router.post("/api/action/{action}", name="ckan_action")
async def ckan_action(request: Request, action: str,
                      idempotency_key: Annotated[str | None,
                                                 Header(alias="Idempotency-Key")] = None):
    """The unversioned path ckanapi uses by default."""
    return await _respond(request, action, idempotency_key)
