"""SIPD e-Walidata: indicator mappings and the push state per indicator and year."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from services.registry.models import Open, Strict
from shared.validation import Code, Note, Text


class IndicatorCreate(Strict):
    kodeindikator: Text(60, min_length=1) = Field(examples=["1.01.01.01"])
    dataset: Code
    measure: Text(60, min_length=1)
    dimensions: dict[Text(60), Text(100)] = Field({}, max_length=10, description="a filter, "
                                                  "e.g. {'jenis_kelamin': 'P'}")
    note: Note | None = None


class IndicatorPublic(Open):
    id: int
    kodeindikator: str
    dataset: str
    measure: str
    dims: dict[str, str]
    note: str | None = None
    created_by: str | None = None
    created_at: datetime


class IndicatorsPublic(Open):
    items: list[IndicatorPublic]


class YearState(Open):
    kodeindikator: str
    dataset: str
    measure: str
    tahun: str
    value: Any = Field(description="the regency's value now (hidden values stay hidden)")
    state: Literal["menunggu", "antre", "mengirim", "terkirim", "ditolak", "gagal"] = Field(
        description="menunggu: not complete or not verified (waiting_for says why); antre: "
        "ready, not sent yet; mengirim: being retried; terkirim; ditolak: SIPD's message in "
        "response; gagal: every attempt failed")
    waiting_for: list[str]
    pushed_value: Decimal | None = None
    attempts: int
    response: str | None = None
    sent_at: datetime | None = None


class SipdStatus(Open):
    items: list[YearState]


class ScanResult(Open):
    queued: int = Field(description="years queued for SIPD by this scan")
