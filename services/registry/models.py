"""Registry API models (the SQLModel naming chain: Base -> Create/Update -> Public)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
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
    locale: Literal["id", "en"] = "id"
    sheet: str | None = None


class ResolveRequest(Strict):
    dataset: str | None = None  # its region_levels settle names shared across levels
    values: list[str] = Field(max_length=10_000)


class DiffItem(BaseModel):
    index: int
    line: int | None = None  # as in RejectedRow: CSV line, XLSX row, 1-based JSON position
    sheet: str | None = None
    region_code: str
    period: str
    dimensions: dict[str, str]
    change: Literal["create", "update", "unchanged", "conflict"]
    current: dict[str, Any] | None
    proposed: dict[str, Any]


# --- stewardship: regions, aliases, publishers, keys, conflicts ---------------------------

RegionLevel = Literal["kabupaten", "kecamatan", "desa", "kelurahan"]


class RegionImportRow(Strict):
    """One region to create, rename or retire (CSV columns of the same names)."""

    code: str = Field(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
    name: str = Field(min_length=1, max_length=200)
    level: RegionLevel
    parent_code: str | None = None
    valid_from: date | None = None
    valid_until: date | None = Field(None, description="the day the code stops being used")
    successor_code: str | None = Field(None, description="the code in force after it")
    note: str | None = None


class RegionImport(Strict):
    rows: list[RegionImportRow] = Field(min_length=1, max_length=5000)


class AliasImportRow(Strict):
    code: str | None = Field(None, description="the alias code (BPS or former code); optional")
    name: str | None = Field(None, description="the spelling used by the source")
    kemendagri_code: str = Field(min_length=2)
    note: str | None = None


class AliasImport(Strict):
    rows: list[AliasImportRow] = Field(min_length=1, max_length=20_000)
    source: str | None = Field(None, max_length=200, description="where the file came from")


class ReviewNote(Strict):
    note: str | None = Field(None, max_length=1000)


class RejectNote(Strict):
    note: str = Field(min_length=3, max_length=1000,
                      description="why the proposed value is rejected (shown to the publisher)")


class PublisherCreate(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}$")
    name: str = Field(min_length=2, max_length=200)
    kind: Literal["desa", "kecamatan", "opd"]
    region_scope: str
    datasets: list[str] = []


class PublisherUpdate(Strict):
    name: str | None = Field(None, min_length=2, max_length=200)
    region_scope: str | None = None
    datasets: list[str] | None = None


class PublisherPublic(BaseModel):
    id: str
    name: str
    kind: str
    region_scope: str
    datasets: list[str]


class KeyCreate(Strict):
    publisher_id: str
    role: Literal["publisher", "walidata", "admin"] = "publisher"
    label: str = Field("", max_length=200)
    expires_at: datetime | None = None


class KeyPublic(BaseModel):
    id: str
    publisher_id: str
    role: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="the raw key: shown once, stored only as a hash")


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


class ConflictsPublic(BaseModel):
    items: list[ConflictPublic]
    next_cursor: str | None
