"""Reference classification API models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.pagination import Page
from shared.validation import Code, Text


class ClassificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text(200, min_length=1) = Field(description="'Klasifikasi Baku Lapangan Usaha "
                                                       "Indonesia (KBLI) 2020'")
    source: Text(500, min_length=1) = Field(description="where the codes come from (the "
                                                        "regulation, the file)")
    codes: dict[Code, Text(300)] = Field(min_length=1, max_length=5000,
                                         description="code -> label")


class ClassificationSummary(BaseModel):
    name: str
    title: str
    source: str
    count: int
    hash: str
    loaded_by: str
    loaded_at: datetime


class Classification(ClassificationSummary):
    codes: dict[str, str]


class Classifications(Page[ClassificationSummary]):
    pass
