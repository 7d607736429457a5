"""Regions and their aliases: imports, answers, resolution requests."""

from __future__ import annotations

from datetime import date, datetime
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from services.registry.models import Open, RegionRef, Strict
from shared.validation import Code, Name, Note, Text
from shared.pagination import Page


class ResolveRequest(Strict):
    dataset: str | None = None  # its region_levels settle names shared across levels
    values: list[str] = Field(max_length=10_000)


RegionLevel = Literal["kabupaten", "kecamatan", "desa", "kelurahan"]


ChangeKind = Literal["split", "merge", "code_change", "move", "rename", "creation"]
# The words a walidata writes in a CSV or XLSX column for each kind of change.
CHANGE_WORDS = {"pemekaran": "split", "penggabungan": "merge", "perubahan_kode": "code_change",
                "perubahan_status": "code_change", "pindah": "move", "perpindahan": "move",
                "ganti_nama": "rename", "perubahan_nama": "rename", "pembentukan": "creation"}


def _change_word(value):
    if isinstance(value, str):
        word = re.sub(r"[\s-]+", "_", value.strip().lower())
        return CHANGE_WORDS.get(word, word) or None
    return value


def _codes(value):
    """'64.08.01.2001; 64.08.01.2002' (a CSV cell) or a list -> a list of codes."""
    if isinstance(value, str):
        return [c for c in re.split(r"[;,\s]+", value) if c]
    return value


CodeList = Annotated[list[Code], BeforeValidator(_codes), Field(max_length=50)]


class RegionImportRow(Strict):
    """One region to create, rename or retire, or the result of a dated change (CSV and XLSX
    columns of the same names)."""

    code: str = Field(pattern=r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
    name: Name
    level: RegionLevel
    parent_code: Code | None = None
    valid_from: date | None = Field(None, description="the first day the code is used (the "
                                    "change's date when ``change`` is given)")
    valid_until: date | None = Field(None, description="the day the code stops being used")
    successor_code: Code | None = Field(None, description="the code in force after it")
    change: Annotated[ChangeKind | None, BeforeValidator(_change_word)] = Field(
        None, description="the change this row results from: split (pemekaran), merge "
        "(penggabungan), code_change (perubahan_kode, e.g. desa to kelurahan), move (pindah), "
        "rename (ganti_nama) or creation (pembentukan)")
    from_codes: CodeList | None = Field(
        None, description="the codes before the change (split: the one village divided; "
        "merge: every village joined; code_change and move: the old code); ';' between codes "
        "in a CSV cell")
    decree_number: Text(200) | None = Field(None, description="the decree that made it")
    decree_date: date | None = None
    note: Note | None = None


class RegionImport(Strict):
    rows: list[RegionImportRow] = Field(min_length=1, max_length=5000)
    sample: bool = Field(False, description="the changes are sample data (contoh), for a "
                         "demonstration or a test, not a decree")


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
    valid_from: date | None = None
    valid_until: date | None = None
    successor_code: str | None = None
    children: list[RegionPublic] | None = Field(None, description="with ?tree=true")


class RegionsPublic(Page[RegionPublic], Open):
    count: int


class AliasPublic(Open):
    id: int
    region_code: str | None = None
    kind: str = Field(examples=["bps_code"])
    alias: str = Field(examples=["6404040012"])
    source: str | None = None
    status: str = Field(examples=["active"])
    note: str | None = None
    created_at: datetime | None = None
    reviewed_by: str | None = Field(None, description="the walidata who reviewed it")
    reviewed_at: datetime | None = None


class RegionChangePublic(Open):
    id: int
    kind: ChangeKind
    effective: date | None = Field(description="the first day of the new state (unknown "
                                   "for some changes in the reference data)")
    from_codes: list[str]
    to_codes: list[str]
    decree_number: str | None = None
    decree_date: date | None = None
    note: str | None = None
    source: str
    sample: bool = Field(description="sample data (contoh), not a decree")
    description: str = Field(description="the change in a sentence, in Indonesian")


class RegionChangesPublic(Open):
    items: list[RegionChangePublic]


class LineageRef(RegionRef):
    valid_from: date | None = None
    valid_until: date | None = None


class RegionChild(RegionRef):
    parent_code: str | None = None
    valid_from: date | None = None
    valid_until: date | None = Field(None, description="retired from this day on")


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
    children: list[RegionChild]
    aliases: list[AliasPublic]
    predecessors: list[LineageRef] = Field(
        [], description="the regions this one came from (split, merge, code change, move)")
    successors: list[LineageRef] = Field([], description="the regions that replaced it")
    changes: list[RegionChangePublic] = Field([], description="the dated changes it took "
                                              "part in, newest first")


class AliasesPublic(Page[AliasPublic], Open):
    pass


class ChangeEffect(Open):
    records_before: int = Field(description="current records under the old codes for periods "
                                "ending before the date: they stay where they are")
    records_after: int = Field(description="current records under the old codes for periods "
                               "ending on or after the date: they stay, and new rows for those "
                               "periods must use the new codes")
    datasets: list[str]
    keys: list[dict] = Field(description="publishers whose scope is an old code: their keys "
                             "keep writing the periods before the change; move their scope "
                             "for the periods after it")


class ChangePreview(Open):
    kind: ChangeKind
    effective: date | None
    from_codes: list[str]
    to_codes: list[str]
    description: str
    affects: ChangeEffect


class RegionImportResult(Open):
    created: int
    updated: int
    renamed: int
    retired: int
    regions: list[str]
    preview: bool = Field(False, description="with ?preview=true: nothing was written")
    changes: list[ChangePreview] = []


class AliasRefusal(Open):
    line: int | None
    alias: str
    reason: str


class AliasImportResult(Open):
    inserted: int
    pending: int
    refused: list[AliasRefusal] = Field(description="rows stored as refused, with the reason")
    items: list[AliasPublic]
