"""Citizens' reports that a figure is wrong: what a citizen sends, what the public and the
walidata see."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from services.registry.models import Open, Strict
from shared.validation import Code, Text


class ReportCreate(Strict):
    dataset: Code
    region: Code = Field(description="the region code of the figure")
    period: Text(20, min_length=4)
    dimensions: dict[Text(60), Text(100)] = Field({}, max_length=10)
    measure: Text(60) | None = None
    message: Text(1000, min_length=5, multiline=True) = Field(
        description="what is wrong with the figure, in the citizen's words")
    contact: Text(200) | None = Field(
        None, description="optional e-mail or phone for the answer: never published, deleted "
        "once the report has been answered for the retention period")


class ReportAnswer(Strict):
    answer: Text(2000, min_length=3, multiline=True)


class ReportPublic(Open):
    id: uuid.UUID
    dataset: str
    region_code: str
    period: str
    dimensions: dict[str, str] = {}
    measure: str | None = None
    status: Literal["open", "answered"] = Field(
        description="open: the figure shows 'sedang ditinjau' until the walidata answers")
    answer: str | None = None
    created_at: datetime
    answered_at: datetime | None = None
    message: str | None = Field(None, description="the walidata only")
    contact: str | None = Field(None, description="the walidata only, until deleted")
    contact_deleted_at: datetime | None = Field(None, description="the walidata only")


class ReportsPublic(Open):
    items: list[ReportPublic]
    retention_days: int = Field(description="days a contact is kept after the answer")
