"""Walidata/admin routes: regions and aliases, publishers and keys, conflicts.

Included before ``api.router`` so ``/v1/regions/aliases`` is not taken for a region code.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ValidationError

from services.registry import audit, models, stewardship, store
from shared.auth import require_principal, require_steward
from shared.errors import BadRequest, PayloadTooLarge, Unprocessable
from shared.validation import INT64_MAX
from shared.web import PoolDep
from shared.i18n import validation_details

router = APIRouter(prefix="/v1", tags=["stewardship"])

UPLOAD_MAX = 5 * 1024 * 1024
CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


async def _rows_body(request: Request, model: type[BaseModel]) -> BaseModel:
    """The body as ``model``: JSON ``{"rows": [...]}``, a CSV body, or a multipart file."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("Unggah berkas CSV di kolom 'file'.", code="file_required")
        raw = await upload.read(UPLOAD_MAX + 1)
        data = {"rows": _csv_rows(raw)}
        if form.get("source"):
            data["source"] = str(form["source"])
    elif content_type in CSV_TYPES:
        raw = await request.body()
        data = {"rows": _csv_rows(raw)}
        if request.query_params.get("source"):
            data["source"] = request.query_params["source"]
    else:
        raw = await request.body()
        try:
            data = json.loads(raw or b"null")
        except ValueError as exc:
            raise BadRequest("Badan permintaan bukan JSON maupun CSV.", code="invalid_body") \
                from exc
    if len(raw) > UPLOAD_MAX:
        raise PayloadTooLarge("Berkas lebih dari 5 MB.", code="file_too_large")
    if isinstance(data, dict) and "source" not in model.model_fields:
        data.pop("source", None)  # CSV uploads may name a source; region imports keep none
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc.errors(), drop=(), limit=50)
        raise Unprocessable("Baris impor tidak valid; periksa kolom yang disebut (rows.<baris>"
                            ".<kolom>, baris dihitung dari 0).", code="validation_failed",
                            details=details) from exc


def _csv_rows(raw: bytes) -> list[dict]:
    if len(raw) > UPLOAD_MAX:
        raise PayloadTooLarge("Berkas lebih dari 5 MB.", code="file_too_large")
    text = raw.decode("utf-8-sig", errors="replace")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [{k.strip().lower(): (v.strip() if v and v.strip() else None)
             for k, v in row.items() if k} for row in reader]


# --- regions and aliases ------------------------------------------------------------------


@router.post("/regions/import", response_model=models.RegionImportResult,
             response_model_exclude_unset=True)
async def import_regions(request: Request, pool: PoolDep):
    """New codes, renames and retirements with successor (CSV or JSON rows)."""
    principal = require_steward(request.headers)
    body = await _rows_body(request, models.RegionImport)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.import_regions(conn, [r.model_dump() for r in body.rows])
        await audit.record(conn, principal, "region.import", None, {  # issue 19
            "codes": [r.code for r in body.rows][:200], "rows": len(body.rows)})
        return result


@router.post("/regions/aliases/import", response_model=models.AliasImportResult,
              response_model_exclude_unset=True)
async def import_aliases(request: Request, pool: PoolDep):
    """Aliases land as ``pending`` (or ``refused`` with the reason) for review."""
    principal = require_steward(request.headers)
    body = await _rows_body(request, models.AliasImport)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.import_aliases(conn, principal,
                                                  [r.model_dump() for r in body.rows],
                                                  body.source)
        await audit.record(conn, principal, "alias.import", body.source,  # issue 19
                           {"rows": len(body.rows)})
        return result


@router.get("/regions/aliases", response_model=models.AliasesPublic,
            response_model_exclude_unset=True)
async def list_aliases(request: Request, pool: PoolDep,
                       status: Literal["pending", "active", "refused"] | None = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                       after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0):
    require_steward(request.headers)
    async with pool.acquire() as conn:
        items, next_after = await stewardship.list_aliases(conn, status, limit, after)
    return {"items": items, "next": next_after}


@router.post("/regions/aliases/{alias_id}/approve", response_model=models.AliasPublic,
              response_model_exclude_unset=True)
async def approve_alias(alias_id: Annotated[int, Path(ge=1, le=INT64_MAX)], request: Request,
                        pool: PoolDep,
                        body: models.ReviewNote | None = None):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.review_alias(conn, principal, alias_id, "active",
                                                body.note if body else None)
        await audit.record(conn, principal, "alias.approve", str(alias_id),  # issue 19
                           {"note": body.note if body else None})
        return result


@router.post("/regions/aliases/{alias_id}/refuse", response_model=models.AliasPublic,
              response_model_exclude_unset=True)
async def refuse_alias(alias_id: Annotated[int, Path(ge=1, le=INT64_MAX)], request: Request,
                       pool: PoolDep,
                       body: models.ReviewNote | None = None):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.review_alias(conn, principal, alias_id, "refused",
                                                body.note if body else None)
        await audit.record(conn, principal, "alias.refuse", str(alias_id),  # issue 19
                           {"note": body.note if body else None})
        return result


# --- publishers and keys ------------------------------------------------------------------


@router.post("/publishers", response_model=models.PublisherPublic, status_code=201)
async def create_publisher(body: models.PublisherCreate, request: Request, pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.create_publisher(conn, body.model_dump())
        await audit.record(conn, principal, "publisher.create", body.id,  # issue 19
                           body.model_dump(mode="json"))
        return result


@router.patch("/publishers/{publisher_id}", response_model=models.PublisherPublic)
async def update_publisher(publisher_id: str, body: models.PublisherUpdate, request: Request,
                           pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.update_publisher(conn, publisher_id,
                                                    body.model_dump(exclude_unset=True))
        await audit.record(conn, principal, "publisher.update", publisher_id,  # issue 19
                           body.model_dump(mode="json", exclude_unset=True))
        return result


@router.post("/keys", response_model=models.KeyCreated, status_code=201)
async def create_key(body: models.KeyCreate, request: Request, pool: PoolDep):
    """The raw key is in this response only; the registry keeps its hash."""
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.create_key(conn, principal, body.model_dump())
        await audit.record(conn, principal, "key.create", result["id"], {  # issue 19
            "publisher_id": body.publisher_id, "role": body.role, "label": body.label})
        return result


@router.get("/keys", response_model=models.KeysPublic, response_model_exclude_unset=True)
async def list_keys(request: Request, pool: PoolDep, publisher: str | None = None):
    require_steward(request.headers)
    async with pool.acquire() as conn:
        items = await store.keys_of(conn, publisher)
    return {"items": [models.KeyPublic(**k).model_dump(mode="json") for k in items]}


@router.post("/keys/{key_id}/revoke", response_model=models.KeyPublic)
async def revoke_key(key_id: str, request: Request, pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.revoke_key(conn, principal, key_id)
        await audit.record(conn, principal, "key.revoke", key_id,  # issue 19
                           {"publisher_id": result["publisher_id"]})
        return result


# --- conflicts ----------------------------------------------------------------------------


@router.get("/conflicts", response_model=models.ConflictsPublic)
async def list_conflicts(
    request: Request, pool: PoolDep, dataset: str | None = None,
    status: Literal["open", "accepted", "rejected", "superseded", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100, cursor: str | None = None,
):
    principal = require_principal(request.headers)
    async with pool.acquire() as conn:
        items, next_cursor = await stewardship.list_conflicts(
            conn, principal, dataset=dataset, status=None if status == "all" else status,
            cursor=cursor, limit=limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/conflicts/{conflict_id}", response_model=models.ConflictPublic)
async def show_conflict(conflict_id: uuid.UUID, request: Request, pool: PoolDep):
    principal = require_principal(request.headers)
    async with pool.acquire() as conn:
        return await stewardship.get_conflict(conn, principal, conflict_id)


@router.post("/conflicts/{conflict_id}/accept", response_model=models.ConflictPublic)
async def accept_conflict(conflict_id: uuid.UUID, request: Request, pool: PoolDep,
                          body: models.ReviewNote | None = None):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.accept_conflict(conn, principal, conflict_id,
                                                   body.note if body else None)
        await audit.record(conn, principal, "conflict.accept", str(conflict_id),  # issue 19
                           {"note": body.note if body else None})
        return result


@router.post("/conflicts/{conflict_id}/reject", response_model=models.ConflictPublic)
async def reject_conflict(conflict_id: uuid.UUID, body: models.RejectNote, request: Request,
                          pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        result = await stewardship.reject_conflict(conn, principal, conflict_id, body.note)
        await audit.record(conn, principal, "conflict.reject", str(conflict_id),  # issue 19
                           {"note": body.note})
        return result
