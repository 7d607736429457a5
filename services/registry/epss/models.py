"""EPSS evidence (facts from the records, with the datasets behind them) and the walidata's
self-assessment."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from services.registry.models import Open, Strict
from shared.validation import Text


class EvidenceItem(Open):
    dataset: str
    numerator: int
    denominator: int
    detail: str


class IndicatorEvidence(Open):
    indicator: str
    domain: str
    label: str = Field(description="what the fact counts, in Indonesian")
    numerator: int
    denominator: int
    share: float | None
    items: list[EvidenceItem]


class Evidence(Open):
    year: int
    indicators: list[IndicatorEvidence]
    not_evidenced: list[str] = Field(description="indicators the records cannot show")
    note: str


class Assessment(Strict):
    indicator: Text(80, min_length=1) = Field(description="an evidence key, or 'lain:<name>' "
                                              "for an indicator the platform cannot evidence")
    level: int = Field(ge=1, le=5, description="the maturity level the walidata chose")
    note: Text(2000, multiline=True) | None = None
    evidence: Text(2000, multiline=True) | None = Field(None, description="links or references")


class AssessmentIn(Strict):
    items: list[Assessment] = Field(min_length=1, max_length=100)


class AssessedItem(Open):
    indicator: str
    level: int
    note: str | None = None
    evidence: str | None = None
    assessed_by: str
    assessed_at: datetime


class AssessmentOut(Open):
    year: int
    items: list[AssessedItem]


class PlanItem(Strict):
    title: Text(300, min_length=3)
    producer: Text(200, min_length=2) = Field(description="the producing agency (produsen data)")
    walidata: Text(200, min_length=2)
    frequency: Literal["annual", "semester", "quarterly", "monthly"]
    datasets: list[Text(100)] = Field([], max_length=20, description="the datasets that "
                                      "fulfil it (none yet: the item is missing)")
    note: Text(1000, multiline=True) | None = None


class PlanIn(Strict):
    items: list[PlanItem] = Field(max_length=500)


class PlanItemStatus(Open):
    id: int
    title: str
    producer: str
    walidata: str
    frequency: str
    datasets: list[str]
    note: str | None = None
    status: Literal["terpenuhi", "terlambat", "belum_ada", "belum_jatuh_tempo"]
    on_time: int
    late: int
    missing: int


class PlanOut(Open):
    year: int
    items: list[PlanItemStatus]
    states: dict[str, str]
