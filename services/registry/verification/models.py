"""API models for rules, the publication policy and the verification queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from shared.pagination import Page


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PolicyBase(BaseModel):
    policy: Literal["langsung", "verifikasi"] = Field(
        "langsung", description="langsung: publish what passes every rule and outlier check, "
        "hold the rest; verifikasi: hold every new value until the walidata verifies it")
    outliers: bool = Field(True, description="check values against history and peers")
    outlier_z: float = Field(3.5, gt=0, le=100, description="modified z-score threshold")
    min_history: int = Field(4, ge=2, le=100, description="earlier periods needed")
    min_peers: int = Field(10, ge=3, le=10_000, description="same-level regions needed")


class PolicyUpdate(PolicyBase, Strict):
    pass


class PolicyPublic(PolicyBase):
    updated_by: str | None = None
    updated_at: datetime | None = None


class RuleBase(BaseModel):
    expression: str = Field(min_length=1, max_length=500, examples=[
        "laki_laki + perempuan == total", "guru > 0 and murid / guru <= 60",
        'sibling(jumlah, jenis_kelamin="L") + sibling(jumlah, jenis_kelamin="P") == '
        'sibling(jumlah, jenis_kelamin="T")', "jumlah <= parent(jumlah)"])
    importance: Literal["tinggi", "sedang", "rendah"] = "sedang"
    message: str = Field(min_length=3, max_length=500,
                         description="shown to the publisher whose value breaks the rule")


class RuleCreate(RuleBase, Strict):
    pass


class RulePublic(RuleBase):
    id: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class RulesPublic(Page[RulePublic]):
    next_cursor: str | None = Field(None, description="always null: a dataset's rules fit on "
                                    "one page")


class RuleViolation(BaseModel):
    record_id: uuid.UUID
    region_code: str
    period: str
    dimensions: dict[str, str]
    values: dict[str, Any]
    reasons: list[dict[str, Any]]


class RuleEvaluation(BaseModel):
    dataset: str
    rules: int
    failing_records: int
    items: list[RuleViolation]


class HeldPublic(BaseModel):
    id: uuid.UUID
    dataset: str
    record_id: uuid.UUID | None
    region_code: str
    region_name: str
    kecamatan: str
    period: str
    dimensions: dict[str, str]
    proposed: dict[str, Any] = Field(description="the held value")
    public: dict[str, Any] | None = Field(description="what the public sees meanwhile")
    publisher_id: str
    publisher_name: str | None
    submission_id: uuid.UUID | None
    line: int | None
    sheet: str | None
    reasons: list[dict[str, Any]]
    status: Literal["held", "verified", "returned", "superseded"]
    note: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    conflict_id: uuid.UUID | None = Field(description="the open conflict about the same value")
    reporting: dict[str, Any] | None = Field(
        None, description="the kecamatan's reporting units now and once this is released")


class HeldList(Page[HeldPublic]):
    pass


class Decision(Strict):
    note: str | None = Field(None, max_length=1000)


class BulkDecision(Strict):
    ids: list[uuid.UUID] | None = Field(None, max_length=5000)
    dataset: str | None = None
    period: str | None = Field(None, max_length=20)
    kecamatan: str | None = Field(None, max_length=20)
    note: str | None = Field(None, max_length=1000)


class ReturnDecision(Strict):
    note: str = Field(min_length=3, max_length=1000,
                      description="why it goes back: the publisher reads it")


class BulkReturn(BulkDecision):
    note: str = Field(min_length=3, max_length=1000)


class DecisionResult(BaseModel):
    decided: int
    status: str
    items: list[HeldPublic]
