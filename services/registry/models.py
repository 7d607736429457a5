"""Registry API models (the SQLModel naming chain: Base -> Create/Update -> Public)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.privacy_models import Suppressed  # issue 19
from shared.validation import (Code, Description, JsonObject, Name, Note, Number, Text,
                               Title)

Frequency = Literal["annual", "semester", "quarterly", "monthly"]


class Strict(BaseModel):
    """Request models refuse unknown fields (plain Pydantic: the registry's SQL lives in
    store.py, and SQLModel's table metadata would shadow the dataset ``metadata`` field)."""

    model_config = ConfigDict(extra="forbid")


class DimensionSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)
    label: Text(200)
    values: dict[Code, Text(200)] = Field(default_factory=dict, max_length=5000,
                                          description="allowed codes and their labels; "
                                                      "empty = free")


class MeasureSpec(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)
    label: Text(200)
    type: Literal["integer", "decimal", "text"] = "integer"
    unit: Text(50) | None = None
    min: Number | None = None
    max: Number | None = None
    additive: bool = False
    required: bool = True


class DatasetSchema(Strict):
    dimensions: list[DimensionSpec] = Field([], max_length=20)
    measures: list[MeasureSpec] = Field(min_length=1, max_length=50)
    region_levels: list[Literal["kabupaten", "kecamatan", "desa", "kelurahan"]] = [
        "desa", "kelurahan"]


class DatasetBase(Strict):
    title: Title
    description: Description = ""
    frequency: Frequency = "annual"
    topic: Text(100) | None = None
    tags: list[Text(50)] = Field([], max_length=50)
    license: Text(100) = "CC-BY-4.0"
    metadata: JsonObject = Field(
        default_factory=dict,
        description="Satu Data Indonesia metadata: konsep, definisi, klasifikasi, ukuran, "
                    "satuan, produsen_data, walidata (produsen_data, walidata, konsep, "
                    "definisi and satuan required)",
    )
    authoritative: list[Text(100)] = Field(default_factory=list, max_length=100,
                                           description="publisher ids whose values win")


# Satu Data Indonesia (Perpres 39/2019): every dataset names who produces it, who stewards
# it, what it counts and in which unit. Checked on create and on every update.
REQUIRED_METADATA = ("produsen_data", "walidata", "konsep", "definisi", "satuan")


class DatasetCreate(DatasetBase):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,80}$")
    # required, but checked with the metadata keys so one answer names everything missing
    frequency: Frequency | None = Field(  # type: ignore[assignment]
        None, description="required: annual, semester, quarterly or monthly")
    schema_: DatasetSchema = Field(alias="schema")


class DatasetUpdate(Strict):
    """Fields left out stay as they are; an explicit ``null`` is refused (422)."""

    title: Title = None
    description: Description = None
    frequency: Frequency = None
    topic: Text(100) = None
    tags: list[Text(50)] = Field(None, max_length=50)
    license: Text(100) = None
    metadata: JsonObject = None
    authoritative: list[Text(100)] = Field(None, max_length=100)
    schema_: DatasetSchema = Field(None, alias="schema")


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
    retracted_at: datetime | None = None
    retraction_reason: str | None = None
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
    reason: str | None = Field(None, description="why the value was retracted")
    publisher_id: str
    submission_id: uuid.UUID | None
    conflict_id: uuid.UUID | None
    recorded_at: datetime


class RecordWithHistory(RecordPublic):
    as_of: datetime | None = None
    history: list[RecordVersionPublic]


class RetractNote(Strict):
    reason: str = Field(min_length=3, max_length=1000,
                        description="why it is withdrawn (shown to everyone who asks for it)")


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
    name: Name
    level: RegionLevel
    parent_code: Code | None = None
    valid_from: date | None = None
    valid_until: date | None = Field(None, description="the day the code stops being used")
    successor_code: Code | None = Field(None, description="the code in force after it")
    note: Note | None = None


class RegionImport(Strict):
    rows: list[RegionImportRow] = Field(min_length=1, max_length=5000)


class AliasImportRow(Strict):
    code: Code | None = Field(None, description="the alias code (BPS or former code); optional")
    name: Name | None = Field(None, description="the spelling used by the source")
    kemendagri_code: Text(100, min_length=2)
    note: Note | None = None


class AliasImport(Strict):
    rows: list[AliasImportRow] = Field(min_length=1, max_length=20_000)
    source: Text(200) | None = Field(None, description="where the file came from")


class ReviewNote(Strict):
    note: Note | None = None


class RejectNote(Strict):
    note: Text(1000, min_length=3, multiline=True,
               description="why the proposed value is rejected (shown to the publisher)")


class PublisherCreate(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}$")
    name: Text(200, min_length=2)
    kind: Literal["desa", "kecamatan", "opd"]
    region_scope: Code
    datasets: list[Text(100)] = Field([], max_length=500)


class PublisherUpdate(Strict):
    """Fields left out stay as they are; an explicit ``null`` is refused (422)."""

    name: Text(200, min_length=2) = None
    region_scope: Code = None
    datasets: list[Text(100)] = Field(None, max_length=500)


class PublisherPublic(BaseModel):
    id: str
    name: str
    kind: str
    region_scope: str
    datasets: list[str]


class KeyCreate(Strict):
    publisher_id: Text(100)
    role: Literal["publisher", "walidata", "admin"] = "publisher"
    label: Text(200) = ""
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


# --- answers of the reference, statistics and stewardship routes --------------------------
# Typed so the OpenAPI document shows them; ``Open`` keeps fields added later (the answers are
# built as dicts in service code) instead of silently dropping them.


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RegionRef(Open):
    code: str = Field(examples=["64.08.04.2001"])
    name: str | None = Field(examples=["Sangatta Utara"])
    level: str | None = Field(None, examples=["desa"])


class RegionPublic(Open):
    code: str = Field(examples=["64.08.04.2001"])
    name: str = Field(examples=["Sangatta Utara"])
    level: str = Field(examples=["desa"])
    parent_code: str | None = Field(examples=["64.08.04"])
    path: list[str] = Field(examples=[["64", "64.08", "64.08.04", "64.08.04.2001"]])
    valid_until: date | None = None
    successor_code: str | None = None
    children: list[RegionPublic] | None = Field(None, description="with ?tree=true")


class RegionsPublic(Open):
    items: list[RegionPublic]
    count: int


class AliasPublic(Open):
    id: int
    region_code: str | None = None
    kind: str = Field(examples=["bps_code"])
    alias: str = Field(examples=["6404040012"])
    source: str | None = None
    status: str = Field(examples=["active"])
    note: str | None = None


class RegionDetail(Open):
    code: str = Field(examples=["64.08.04.2001"])
    name: str
    level: str
    parent_code: str | None
    path: list[RegionRef]
    valid_from: date | None = None
    valid_until: date | None = None
    successor_code: str | None = None
    version: int | None = None
    children: list[RegionRef]
    aliases: list[AliasPublic]


class AliasesPublic(Open):
    items: list[AliasPublic]
    next: int | None = Field(description="pass as ?after= for the next page")


class RegionImportResult(Open):
    created: int
    updated: int
    renamed: int
    retired: int
    regions: list[str]


class AliasRefusal(Open):
    line: int | None
    alias: str
    reason: str


class AliasImportResult(Open):
    inserted: int
    pending: int
    refused: list[AliasRefusal] = Field(description="rows stored as refused, with the reason")
    items: list[AliasPublic]


class PublisherListItem(Open):
    id: str = Field(examples=["disdukcapil"])
    name: str
    kind: str
    region_scope: str | None
    datasets: list[str]


class PublishersList(Open):
    items: list[PublisherListItem]


class KeysPublic(Open):
    items: list[KeyPublic]


class ChangePublic(Open):
    record_id: uuid.UUID
    dataset: str
    region_code: str
    period: str
    dimensions: dict[str, Any] = {}
    values: dict[str, Any] = {}
    version: int
    seq: int | None = None


class ChangesPublic(Open):
    items: list[ChangePublic]
    next: int = Field(description="pass as ?since= for the next page")


Number = float | int | Suppressed | None  # issue 19: a hidden small count


class AggregateFigures(Open):
    """One region's figures in one period (a child of the asked region, or with ``sum=false``
    one region's own values)."""
    region: RegionRef
    values: dict[str, Number] = Field(examples=[{"jumlah": 81234}])
    value: Number = None
    reporting: int | None = None
    expected: int | None = None
    rate: float | None = None
    dimensions: dict[str, Any] | None = None


class AggregatePeriod(Open):
    period: str = Field(examples=["2024"])
    values: dict[str, Number] = Field(examples=[{"jumlah": 412345}])
    value: Number = None
    reporting: int = Field(examples=[139])
    expected: int = Field(examples=[141])
    rate: float | None = Field(None, examples=[0.9858])
    complete: bool
    children: list[AggregateFigures] | None = None
    regions: list[AggregateFigures] | None = None


class AggregateMeasure(Open):
    name: str
    label: str
    unit: str | None = None
    type: str
    additive: bool


class AggregatePublic(Open):
    dataset: str = Field(examples=["jumlah-penduduk"])
    sum: bool
    filters: dict[str, Any] = {}
    region: RegionRef
    region_levels: list[str]
    measures: list[AggregateMeasure]
    period_from: str | None = None
    period_to: str | None = None
    periods: list[AggregatePeriod]


class CompletenessKecamatan(Open):
    code: str
    name: str
    expected: int
    reported: int
    missing: int
    in_conflict: int
    rate: float | None


class CompletenessRegion(Open):
    code: str
    name: str
    level: str
    kecamatan: str | None = None
    status: Literal["reported", "missing", "conflict"] | str


class CompletenessPublic(Open):
    dataset: str
    period: str
    region_levels: list[str]
    region: RegionRef
    expected: int
    reported: int
    missing: int
    in_conflict: int
    rate: float | None
    kecamatan: list[CompletenessKecamatan]
    regions: list[CompletenessRegion]
