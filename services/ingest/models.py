"""API models of the ingest service (the tables are in migrations/ and store.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.contracts import ImportCounts, RejectedRow
from shared.pagination import Page

Status = Literal["received", "processing", "completed", "partial", "failed"]
Locale = Literal["id", "en"]


class ChunkFailure(BaseModel):
    chunk: int
    reason: str


class SubmissionCreate(BaseModel):
    """JSON body of ``POST /v1/submissions``; rows are checked one by one later, by index."""

    model_config = ConfigDict(extra="forbid")
    dataset: str | None = None  # or ?dataset=
    rows: list[Any]
    locale: Locale | None = None  # or ?locale=; numbers written as text: id (default) or en


class SubmissionAccepted(BaseModel):
    id: uuid.UUID
    status: Status
    status_url: str
    dataset: str
    rows: int
    chunks: int
    warnings: list[dict[str, Any]] = []
    replayed: bool = False  # true when an Idempotency-Key retry returned the original


class SubmissionPublic(BaseModel):
    id: uuid.UUID
    status: Status
    dataset: str
    publisher_id: str
    source: str
    filename: str | None = None
    rows: int
    chunks: int
    chunks_processed: int
    chunks_failed: list[ChunkFailure] = []  # chunks that ended in DEADLETTER, with the reason
    stalled_since: datetime | None = None  # set when nothing moved for INGEST_STALL_AFTER s
    counts: ImportCounts
    rejected_rows: list[RejectedRow] = []
    warnings: list[dict[str, Any]] = []
    error: str | None = None
    created_at: datetime
    updated_at: datetime


class SubmissionSummary(BaseModel):
    id: uuid.UUID
    status: Status
    status_url: str
    dataset: str
    source: str
    filename: str | None = None
    rows: int
    chunks: int
    created_at: datetime


class SubmissionsPublic(Page[SubmissionSummary]):
    pass


class DryRunResult(BaseModel):
    dry_run: Literal[True] = True
    dataset: str
    rows: int
    counts: ImportCounts
    rejected_rows: list[RejectedRow] = []
    held_rows: list[dict[str, Any]] = []  # rows the walidata would hold, with their reasons
    diff: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []


class CkanDatastoreRequest(BaseModel):
    """CKAN's datastore_create / datastore_upsert body. Unknown keys are ignored, not refused:
    CKAN clients send options we do not need (``calculate_record_count``, ``aliases``...)."""

    model_config = ConfigDict(extra="ignore")
    resource_id: str | None = None
    resource: dict[str, Any] | None = None
    fields: list[dict[str, Any]] = []
    records: list[Any] = []
    primary_key: list[str] | str | None = None
    method: Literal["upsert", "insert", "update"] = "upsert"
    dry_run: bool = False
    force: bool = False
