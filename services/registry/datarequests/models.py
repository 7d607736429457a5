"""Data requests (permohonan data): what a citizen asks, what the public and the walidata
see, and the walidata's decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from services.registry.models import Open, Strict
from shared.validation import Code, Text

Status = Literal["diajukan", "diperpanjang", "dijawab", "ditolak"]


class RequestCreate(Strict):
    subject: Text(500, min_length=5, multiline=True) = Field(
        description="the data asked for, in the citizen's words")
    purpose: Text(1000, multiline=True) | None = Field(None, description="what it is for")
    contact: Text(200) | None = Field(
        None, description="optional e-mail or phone for the answer: never published, deleted "
        "once the request has been decided for the retention period")


class Extension(Strict):
    notice: Text(1000, min_length=5, multiline=True) = Field(
        description="the written notice of the extension, with its reason (published)")


class Decision(Strict):
    answer: Text(2000, min_length=3, multiline=True)
    dataset: Code | None = Field(None, description="the dataset published for it (answer)")


class Refusal(Strict):
    reason: Text(2000, min_length=5, multiline=True)


class RequestPublic(Open):
    number: str = Field(examples=["PD-2026-00001"])
    subject: str
    purpose: str | None = None
    status: Status
    received_on: date
    due_on: date = Field(description="the answer's due date: 10 working days after receipt, "
                         "or the extended one")
    extended: bool = Field(description="extended once by 7 working days, with notice")
    extension_notice: str | None = None
    late: bool = Field(description="still open after its due date")
    answer: str | None = None
    dataset: str | None = None
    decided_at: datetime | None = None
    created_at: datetime
    contact: str | None = Field(None, description="the walidata only, until deleted")
    contact_deleted_at: datetime | None = Field(None, description="the walidata only")


class RequestsPublic(Open):
    items: list[RequestPublic]


class LeaveDay(Strict):
    day: date
    note: Text(200) | None = None


class LeaveYear(Strict):
    days: list[LeaveDay] = Field(max_length=60)


class LeavePublic(Open):
    year: int | None = None
    days: list[dict]
