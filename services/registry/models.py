"""Registry API models but the dataset chain (datasets/models.py) and the statistics answers
(statistics/models.py): records, regions and aliases, publishers and keys, conflicts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.datasets.models import NEXT_CURSOR
from shared.validation import Code, Name, Note, Text


class Strict(BaseModel):
    """Request models refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


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
    verification_status: Literal["terverifikasi", "sedang_diverifikasi"] = Field(
        "terverifikasi", description="sedang_diverifikasi: a newer value waits for the "
        "walidata; this is still the last verified one")


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
    verification: list[dict[str, Any]] = Field(
        [], description="held proposals for this record and the walidata's decisions")


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
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)


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
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)


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
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)


class KeysPublic(Open):
    items: list[KeyPublic]
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)


class ChangePublic(Open):
    change: Literal["version", "held", "returned", "verified", "superseded"] = Field(
        "version", description="'version': a new record version (its values); 'held': a newer "
        "value of this key now waits for the walidata (the record keeps its verified values, "
        "marked 'sedang_diverifikasi'); 'returned', 'verified', 'superseded': that wait ended "
        "(a verified value arrives as its own 'version' entry just before)")
    held_id: uuid.UUID | None = Field(None, description="the held value (verification entries)")
    record_id: uuid.UUID | None = Field(description="the record; null for a held value of a "
                                        "key that has no record yet")
    dataset: str
    region_code: str
    period: str
    dimensions: dict[str, Any] = {}
    values: dict[str, Any] = Field({}, description="a version's values; empty for "
                                   "verification entries (a held value is not public)")
    version: int | None = Field(None, description="a version's number; null for verification "
                                "entries")
    seq: int | None = None


class ChangesPublic(Open):
    items: list[ChangePublic]
    next: int = Field(description="the last sequence number: pass as ?since= for the next "
                                  "page, and store it to resume after a restart (a sequence, "
                                  "not a cursor, so a client can keep it)")
