"""Records API models: a record, its history, the change feed, dry-run validation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.registry.models import Open, Strict
from shared.pagination import Page


class RecordPublic(BaseModel):
    id: uuid.UUID
    dataset: str
    region_code: str
    period: str
    dimensions: dict[str, str]
    values: dict[str, Any]
    version: int
    status: str
    publisher_id: str
    submission_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    verification_status: Literal["terverifikasi", "sedang_diverifikasi"] = Field(
        "terverifikasi", description="sedang_diverifikasi: a newer value waits for the "
        "walidata; this is still the last verified one")


class RecordsPublic(Page[RecordPublic]):
    pass


class RecordVersionPublic(BaseModel):
    version: int
    values: dict[str, Any]
    status: str
    reason: str | None = Field(None, description="why the value was retracted")
    publisher_id: str
    submission_id: uuid.UUID | None
    conflict_id: uuid.UUID | None
    recorded_at: datetime


class RecordWithHistory(RecordPublic):
    as_of: datetime | None = None
    history: list[RecordVersionPublic]
    verification: list[dict[str, Any]] = Field(
        [], description="held proposals for this record and the walidata's decisions")


class ValidateRequest(Strict):
    rows: list[dict[str, Any]] = Field(max_length=100_000)
    locale: Literal["id", "en"] = "id"
    sheet: str | None = None


class ChangePublic(Open):
    change: Literal["version", "held", "returned", "verified", "superseded"] = Field(
        "version", description="'version': a new record version (its values); 'held': a newer "
        "value of this key now waits for the walidata (the record keeps its verified values, "
        "marked 'sedang_diverifikasi'); 'returned', 'verified', 'superseded': that wait ended "
        "(a verified value arrives as its own 'version' entry just before)")
    held_id: uuid.UUID | None = Field(None, description="the held value (verification entries)")
    record_id: uuid.UUID | None = Field(description="the record; null for a held value of a "
                                        "key that has no record yet")
    dataset: str
    region_code: str
    period: str
    dimensions: dict[str, Any] = {}
    values: dict[str, Any] = Field({}, description="a version's values; empty for "
                                   "verification entries (a held value is not public)")
    version: int | None = Field(None, description="a version's number; null for verification "
                                "entries")
    status: Literal["current", "retracted"] | None = Field(
        None, description="a version's status (absent on verification entries)")
    publisher_id: str | None = None
    publisher_name: str | None = None
    submission_id: uuid.UUID | None = None
    changed_at: datetime
    sent_at: datetime | None = None
    seq: int | None = None
    verification_status: Literal["terverifikasi", "sedang_diverifikasi"] | None = None


class ChangesPublic(Open):
    items: list[ChangePublic]
    next: int = Field(description="the last sequence number: pass as ?since= for the next "
                                  "page, and store it to resume after a restart (a sequence, "
                                  "not a cursor, so a client can keep it)")
