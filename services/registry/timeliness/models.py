"""API models of the timeliness topic (request models forbid unknown fields). A dataset's
up-to-dateness (``Currency``) belongs to every dataset answer: datasets/models.py."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from shared.pagination import Page


Status = Literal["on_time", "late", "missing", "not_yet_due"]


class ScheduleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_days: int = Field(ge=0, le=366, description="days after the period ends until it "
                            "is due (at 23:59 WITA)")


class DuePeriod(BaseModel):
    period: str
    due_at: datetime


class SchedulePublic(BaseModel):
    dataset: str
    frequency: str
    grace_days: int
    default_grace_days: int
    custom: bool = Field(description="false: the default of the dataset's frequency")
    due_time: str
    latest_due: DuePeriod
    upcoming: DuePeriod


class Counts(BaseModel):
    expected: int
    on_time: int
    late: int
    missing: int
    not_yet_due: int


class UnitStatus(BaseModel):
    code: str
    name: str
    level: str
    kecamatan: str
    kecamatan_name: str
    publisher_id: str | None = Field(description="who should send it (None: no publisher)")
    status: Status
    submitted_at: datetime | None
    days_late: int = Field(description="days past the due date (late or missing)")


class KecamatanStatus(Counts):
    code: str
    name: str
    max_days_late: int


class PeriodTimeliness(Counts):
    dataset: str
    title: str
    frequency: str
    period: str
    grace_days: int
    due_at: datetime
    is_due: bool
    kecamatan: list[KecamatanStatus]
    regions: list[UnitStatus]


class TimelinessPublic(Page[PeriodTimeliness]):
    generated_at: datetime
    summary: Counts
    next_cursor: str | None = Field(None, description="always null: the report is one page "
                                    "(two periods per dataset at most)")


class Overdue(BaseModel):
    dataset: str
    title: str
    period: str
    due_at: datetime
    missing: int
    max_days_late: int
    regions: list[UnitStatus]


class OverduePublic(Page[Overdue]):
    publisher_id: str
    generated_at: datetime
    next_cursor: str | None = Field(None, description="always null: one page")


class Delivery(BaseModel):
    id: uuid.UUID
    channel: Literal["webhook", "email"]
    target: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    sent_at: datetime | None


class ReminderEntry(BaseModel):
    id: uuid.UUID
    publisher_id: str
    dataset: str
    period: str
    stage: str
    due_at: datetime
    created_at: datetime
    deliveries: list[Delivery]


class RemindersPublic(Page[ReminderEntry]):
    pass


class ScanResult(BaseModel):
    created: int = Field(description="reminders written by this scan (0: all sent before)")


class ContactUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)


class ContactPublic(BaseModel):
    publisher_id: str
    email: str
