"""Registry API models (the SQLModel naming chain: Base -> Create/Update -> Public)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Frequency = Literal["annual", "semester", "quarterly", "monthly"]


class Strict(BaseModel):
    """Request models refuse unknown fields (plain Pydantic: the registry's SQL lives in
    store.py, and SQLModel's table metadata would shadow the dataset ``metadata`` field)."""

    model_config = ConfigDict(extra="forbid")


class DimensionSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    values: dict[str, str] = Field(default_factory=dict,
                                   description="allowed codes and their labels; empty = free")


class MeasureSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    type: Literal["integer", "decimal", "text"] = "integer"
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    additive: bool = False
    required: bool = True


class DatasetSchema(Strict):
    dimensions: list[DimensionSpec] = []
    measures: list[MeasureSpec] = Field(min_length=1)
    region_levels: list[Literal["kabupaten", "kecamatan", "desa", "kelurahan"]] = [
        "desa", "kelurahan"]


class DatasetBase(Strict):
    title: str
    description: str = ""
    frequency: Frequency = "annual"
    topic: str | None = None
    tags: list[str] = []
    license: str = "CC-BY-4.0"
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Satu Data Indonesia metadata: konsep, definisi, klasifikasi, ukuran, "
                    "satuan, produsen_data, walidata",
    )
    authoritative: list[str] = Field(default_factory=list,
                                     description="publisher ids whose values win")


class DatasetCreate(DatasetBase):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,80}$")
    schema_: DatasetSchema = Field(alias="schema")


class DatasetUpdate(Strict):
    title: str | None = None
    description: str | None = None
    frequency: Frequency | None = None
    topic: str | None = None
    tags: list[str] | None = None
    license: str | None = None
    metadata: dict[str, Any] | None = None
    authoritative: list[str] | None = None
    schema_: DatasetSchema | None = Field(None, alias="schema")


class DatasetPublic(BaseModel):
    slug: str
    title: str
    description: str
    frequency: str
    topic: str | None
    tags: list[str]
    license: str
    metadata: dict[str, Any]
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")
    authoritative: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    model_config = ConfigDict(populate_by_name=True)


class DatasetsPublic(BaseModel):
    items: list[DatasetPublic]
    count: int


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


class RecordsPublic(BaseModel):
    items: list[RecordPublic]
    next_cursor: str | None


class RecordVersionPublic(BaseModel):
    version: int
    values: dict[str, Any]
    status: str
    publisher_id: str
    submission_id: uuid.UUID | None
    conflict_id: uuid.UUID | None
    recorded_at: datetime


class RecordWithHistory(RecordPublic):
    as_of: datetime | None = None
    history: list[RecordVersionPublic]


class KeyResolve(Strict):
    key: str = Field(min_length=8, max_length=200)


class ValidateRequest(Strict):
    rows: list[dict[str, Any]] = Field(max_length=100_000)


class DiffItem(BaseModel):
    index: int
    region_code: str
    period: str
    dimensions: dict[str, str]
    change: Literal["create", "update", "unchanged", "conflict"]
    current: dict[str, Any] | None
    proposed: dict[str, Any]
