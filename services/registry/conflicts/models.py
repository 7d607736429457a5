"""Conflicts between submitters: both sides and the walidata's rejection note."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.registry.models import Strict
from shared.validation import Text
from shared.pagination import Page


class ConflictSide(BaseModel):
    values: dict[str, Any]
    publisher_id: str
    publisher_name: str | None
    submission_id: uuid.UUID | None = None


class ConflictPublic(BaseModel):
    id: uuid.UUID
    dataset: str
    record_id: uuid.UUID
    region_code: str
    region_name: str
    period: str
    dimensions: dict[str, str]
    status: str
    base_version: int
    record_version: int
    stale: bool = Field(description="the record changed since the conflict was opened")
    current: ConflictSide
    proposed: ConflictSide
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class ConflictsPublic(Page[ConflictPublic]):
    pass


class RejectNote(Strict):
    note: Text(1000, min_length=3, multiline=True,
               description="why the proposed value is rejected (shown to the publisher)")
