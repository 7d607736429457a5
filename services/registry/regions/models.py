"""Regions and their aliases: imports, answers, resolution requests."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from services.registry.datasets.models import NEXT_CURSOR
from services.registry.models import Open, RegionRef, Strict
from shared.validation import Code, Name, Note, Text


class ResolveRequest(Strict):
    dataset: str | None = None  # its region_levels settle names shared across levels
    values: list[str] = Field(max_length=10_000)


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
