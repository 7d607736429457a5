"""Event contracts: every message that crosses a service boundary.

Each event type is a versioned Pydantic v2 model carrying its subject; all travel inside one
``Envelope`` (event_id, type, occurred_at, request_id, data). A breaking change is a new ``...v2``
subject next to the old one, never an edit of a published model.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.validation import Code, Number, Text

# Streams own subject spaces; the namespace setting prefixes both (see shared.bus).
STREAM_SUBJECTS: dict[str, list[str]] = {
    "INGEST": ["ingest.>"],
    "REGISTRY": ["registry.>"],
    "DEADLETTER": ["deadletter.>"],
}


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: ClassVar[str]


class Envelope(BaseModel):
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    request_id: str | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: Event, *, event_id: uuid.UUID | None = None,
             request_id: str | None = None) -> "Envelope":
        return cls(event_id=event_id or uuid.uuid4(), type=event.subject,
                   request_id=request_id, data=event.model_dump(mode="json"))

    def open(self, model: type[Event]) -> Event:
        if self.type != model.subject:
            raise ValueError(f"envelope of type {self.type!r} is not {model.subject!r}")
        return model.model_validate(self.data)


# --- ingest -> registry -------------------------------------------------------------------

class SubmissionChunkV1(Event):
    """One chunk of a submission's rows (chunks keep messages well under NATS's payload limit)."""

    subject: ClassVar[str] = "ingest.submissions.chunk.v1"
    submission_id: uuid.UUID
    dataset: str
    publisher_id: str
    chunk: int = Field(ge=0)
    chunks: int = Field(ge=1)
    row_offset: int = Field(ge=0, description="index of this chunk's first row in the submission")
    rows: list[dict[str, Any]]
    # Added fields with defaults: chunks written before them still read. Rows may carry
    # "_line" (where the row starts in the file) and "_duplicate_of" (lines with the same key).
    locale: Literal["id", "en"] = Field("id", description="how text numbers are written")
    sheet: str | None = Field(None, description="XLSX sheet the rows came from")


# --- registry -> ingest -------------------------------------------------------------------

class RejectedRow(BaseModel):
    index: int = Field(description="0-based position among the submission's data rows")
    line: int | None = Field(None, description="where the row starts as people see it: the "
                             "CSV line (header = 1), the XLSX row, the 1-based JSON position")
    sheet: str | None = Field(None, description="XLSX sheet the row was read from")
    field: str | None = None
    code: str
    message: str
    details: dict[str, Any] | None = None  # e.g. {"suggestions": [...]}, {"other_lines": [...]}


class ImportCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    rejected: int = 0
    held: int = 0  # not applied: waiting for the walidata (rule, outlier or policy)


class SubmissionChunkProcessedV1(Event):
    """The registry's import summary for one chunk of a submission."""

    subject: ClassVar[str] = "registry.submissions.processed.v1"
    submission_id: uuid.UUID
    chunk: int
    chunks: int
    counts: ImportCounts
    rejected_rows: list[RejectedRow] = []
    error: str | None = None
    # additive, so still v1: what became of each row, by outcome name (created,
    # updated, unchanged, conflict, rejected, held) -> row indexes in the submission
    outcomes: dict[str, list[int]] = {}


# --- registry -> search (and any other reader) --------------------------------------------

class RecordV1(BaseModel):
    record_id: uuid.UUID
    dataset: str
    region_code: str
    period: str
    dimensions: dict[str, str] = {}
    values: dict[str, Any] = {}
    version: int
    status: Literal["current", "retracted"] = "current"
    publisher_id: str | None = None
    publisher_name: str | None = Field(None, description="the publisher's name (optional): "
                                       "readers label publisher_id with it")
    submission_id: uuid.UUID | None = None
    changed_at: datetime
    sent_at: datetime | None = Field(None, description="when the registry sent this event "
                                     "(optional): of two events of one version, the later wins")
    seq: int | None = Field(None, description="registry change sequence of this version")
    verification_status: Literal["terverifikasi", "sedang_diverifikasi"] | None = Field(
        None, description="'sedang_diverifikasi' while a newer value of this record "
                          "waits for the walidata (the values are still the last verified ones);"
                          " a re-sent event with the same version changes only this mark")


class RecordsChangedV1(Event):
    """A batch of master records after a change: one event per applied chunk, not per row."""

    subject: ClassVar[str] = "registry.records.changed.v1"
    records: list[RecordV1]


class DimensionSpec(BaseModel):
    """A dimension of a dataset (``jenis_kelamin``), with its allowed codes when closed."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)
    label: Text(200)
    values: dict[Code, Text(200)] = Field(default_factory=dict, max_length=5000,
                                          description="allowed codes and their labels; "
                                                      "empty = free")
    classification: Text(100) | None = Field(
        None, description="the reference classification its codes come from (a name under "
                          "/v1/classifications: KBLI, KBJI, ...); the registry fills "
                          "``values`` from it (all codes, or the labels of those listed)")


@dataclass(frozen=True)
class MeasureType:
    """How the platform treats the values of one measure type. Every reader asks this table
    (through ``MeasureSpec.behaviour``) instead of comparing type names."""

    numeric: bool  # a number: summed or shown per region, checked, hidden when small
    whole: bool  # no fraction: refused on input, totals stay integers
    ckan_type: str  # the CKAN DataStore field type
    description: str


MEASURE_TYPES: dict[str, MeasureType] = {
    "integer": MeasureType(numeric=True, whole=True, ckan_type="numeric",
                           description="a whole number (jumlah penduduk)"),
    "decimal": MeasureType(numeric=True, whole=False, ckan_type="numeric",
                           description="a number with decimals (persentase, rasio)"),
    "text": MeasureType(numeric=False, whole=False, ckan_type="text",
                        description="text, kept as sent; never summed"),
}
MeasureTypeName = Literal[tuple(MEASURE_TYPES)]  # type: ignore[valid-type]
# How a measure's totals are made: summed over regions (numeric and additive), shown per
# region only (numeric, not additive: a rate), or not at all (text).
Aggregation = Literal["sum", "per_region", "none"]
READ_ONLY = ("numeric", "aggregation")  # derived from the type; shown by the API, never stored


class MeasureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=63)
    label: Text(200)
    type: MeasureTypeName = "integer"
    unit: Text(50) | None = None
    min: Number | None = None
    max: Number | None = None
    additive: bool = False
    required: bool = True

    @model_validator(mode="before")
    @classmethod
    def _without_read_only(cls, data: Any) -> Any:
        """A schema read from the API (with its derived fields) can be sent back as it is."""
        if isinstance(data, dict) and any(k in data for k in READ_ONLY):
            return {k: v for k, v in data.items() if k not in READ_ONLY}
        return data

    @property
    def behaviour(self) -> MeasureType:
        return MEASURE_TYPES[self.type]

    @property
    def numeric(self) -> bool:
        return self.behaviour.numeric

    @property
    def aggregation(self) -> Aggregation:
        if not self.numeric:
            return "none"
        return "sum" if self.additive else "per_region"


RegionLevel = Literal["kabupaten", "kecamatan", "desa", "kelurahan"]
UNIT_LEVELS: list[RegionLevel] = ["desa", "kelurahan"]  # where values are sent, by default


class DatasetSchemaV1(BaseModel):
    """What a dataset's rows hold: the one typed description every service reads (the
    registry validates rows with it, ingest maps columns with it, search labels with it)."""

    model_config = ConfigDict(extra="forbid")
    dimensions: list[DimensionSpec] = Field([], max_length=20)
    measures: list[MeasureSpec] = Field(min_length=1, max_length=50)
    region_levels: list[RegionLevel] = list(UNIT_LEVELS)

    @property
    def levels(self) -> list[str]:
        """The levels values are sent for (an empty list means the default ones)."""
        return list(self.region_levels) or list(UNIT_LEVELS)

    @property
    def numeric_measures(self) -> list[MeasureSpec]:
        return [m for m in self.measures if m.numeric]

    @property
    def dimension_names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def measure_names(self) -> list[str]:
        return [m.name for m in self.measures]


class DatasetV1(BaseModel):
    slug: str
    title: str
    description: str = ""
    topic: str | None = None
    tags: list[str] = []
    publisher: str | None = None
    publisher_id: str | None = Field(None, description="the producing publisher's id "
                                     "(optional); `publisher` is its name")
    frequency: str | None = None
    # the dataset's schema, typed; the four fields after it are derived from it (from_schema)
    # for readers that only need names and labels (search's SQL reads them from the payload)
    schema_: DatasetSchemaV1 | None = Field(None, alias="schema")
    dimensions: list[str] = []
    measures: list[str] = []
    # dimension name -> {code: label}, e.g. {"jenis_kelamin": {"L": "Laki-laki", "P": "Perempuan"}}
    dimension_values: dict[str, dict[str, str]] = {}
    # measure name -> {"label", "unit", "type"}
    measure_info: dict[str, dict[str, Any]] = {}
    # Satu Data Indonesia metadata (konsep, definisi, produsen...); optional, search indexes it
    metadata: dict[str, Any] = {}
    # withdrawn by the walidata: readers hide the dataset and its records until restored
    retracted: bool = False
    version: int
    updated_at: datetime
    created_at: datetime | None = Field(None, description="late only for periods due after it")
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    derived_from_schema: ClassVar[frozenset[str]] = frozenset(
        {"dimensions", "measures", "dimension_values", "measure_info"})

    @classmethod
    def from_schema(cls, schema: DatasetSchemaV1, **fields: Any) -> "DatasetV1":
        return cls(
            schema=schema, dimensions=schema.dimension_names, measures=schema.measure_names,
            dimension_values={d.name: dict(d.values) for d in schema.dimensions},
            measure_info={m.name: {"label": m.label, "unit": m.unit, "type": m.type}
                          for m in schema.measures}, **fields)


class DatasetsChangedV1(Event):
    subject: ClassVar[str] = "registry.datasets.changed.v1"
    datasets: list[DatasetV1]


class RegionV1(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None = None
    path_codes: list[str] = Field(default_factory=list, description="kabupaten .. self")
    path_names: list[str] = []
    aliases: list[str] = []
    version: int = 1
    valid_until: str | None = None
    valid_from: str | None = None
    successor_codes: list[str] = Field(default_factory=list,
                                       description="the codes that replaced it (a split: several)")
    successor_names: list[str] = []


class RegionsChangedV1(Event):
    subject: ClassVar[str] = "registry.regions.changed.v1"
    regions: list[RegionV1]


# --- registry -> whoever delivers or watches reminders ---------------------------------------

class ReminderRegionV1(BaseModel):
    code: str
    name: str


class ReminderDueV1(Event):
    """A publisher owes a period of a dataset: before its due date (``before_7d``,
    ``before_1d``, per the configured days) or once it has passed (``overdue``). One per
    publisher, dataset, period and stage, ever; the event id is the reminder id."""

    subject: ClassVar[str] = "registry.reminders.due.v1"
    reminder_id: uuid.UUID
    publisher_id: str
    publisher_name: str
    dataset: str
    dataset_title: str
    period: str
    stage: str
    due_at: datetime
    days: int = Field(description="days left before the due date, or days past it (overdue)")
    regions: list[ReminderRegionV1] = Field(description="units with nothing submitted yet")
    submit_url: str
    template_url: str


class DeadLetterV1(Event):
    """A message that can never succeed, kept with the reason it was refused."""

    subject: ClassVar[str] = "deadletter.v1"
    consumer: str
    original_subject: str
    reason: str
    payload: str
