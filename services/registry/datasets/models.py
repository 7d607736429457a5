"""Dataset API models: the SQLModel chain DatasetBase -> DatasetCreate / DatasetUpdate ->
DatasetPublic. The writable fields are the Create model's; the updatable ones are derived
from the same list (every field of DatasetBase, and the schema), so a field added to the
base is also accepted by PATCH and written by the store (datasets/store.py reads the lists
here). The table itself is declared once, in datasets/tables.py.

The ``metadata`` column is the attribute ``meta`` (SQLAlchemy reserves ``metadata``); on the
wire it stays ``metadata``.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, computed_field, create_model, field_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from shared.contracts import MEASURE_TYPES, Aggregation, DatasetSchemaV1, MeasureSpec
from shared.validation import Description, JsonObject, Text, Title
from shared.pagination import Page

Frequency = Literal["annual", "semester", "quarterly", "monthly"]

# Satu Data Indonesia (Perpres 39/2019): every dataset names who produces it, who stewards
# it, what it counts and in which unit. Checked on create and on every update.
REQUIRED_METADATA = ("produsen_data", "walidata", "konsep", "definisi", "satuan")


class Currency(BaseModel):
    """Up-to-dateness for the dataset's frequency (datasets/currency.py)."""

    status: Literal["mutakhir", "terlambat", "belum_ada_data"]
    label: str = PydanticField(description="'mutakhir: 141 dari 141 desa', 'terlambat 3 bulan: "
                                           "12 desa belum melapor', 'belum ada data'")
    current: bool
    latest_period: str | None
    expected_period: str = PydanticField(
        description="the latest period that should be in by now")
    days_late: int
    reported: int | None = PydanticField(None, description="units that sent the expected period")
    expected_units: int | None = PydanticField(
        None, description="units that should have sent it (valid in the period)")


class UpToDateness(BaseModel):
    last_updated: datetime | None
    currency: Currency


class DatasetBase(SQLModel):
    """Request models refuse unknown fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    title: Title
    description: Description = ""
    frequency: Frequency = "annual"
    topic: Text(100) | None = None
    tags: list[Text(50)] = Field([], max_length=50)
    license: Text(100) = "CC-BY-4.0"
    meta: JsonObject = Field(
        default_factory=dict, alias="metadata",
        description="Satu Data Indonesia metadata: konsep, definisi, klasifikasi, ukuran, "
                    "satuan, produsen_data, walidata (produsen_data, walidata, konsep, "
                    "definisi and satuan required)",
    )
    authoritative: list[Text(100)] = Field(default_factory=list, max_length=100,
                                           description="publisher ids whose values win")


class DatasetCreate(DatasetBase):
    slug: str = Field(regex=r"^[a-z0-9][a-z0-9-]{1,80}$")
    # required, but checked with the metadata keys so one answer names everything missing
    frequency: Frequency | None = Field(  # type: ignore[assignment]
        None, description="required: annual, semester, quarterly or monthly")
    schema_: DatasetSchemaV1 = Field(alias="schema")


def _updatable() -> dict[str, Any]:
    """Every field of DatasetBase, and the schema: optional, but an explicit null is refused
    (the default None is never validated, a sent null is)."""
    fields = {**DatasetBase.model_fields, "schema_": DatasetCreate.model_fields["schema_"]}
    out = {}
    for name, info in fields.items():
        optional = copy.copy(info)
        optional.default, optional.default_factory = None, None
        out[name] = (info.annotation, optional)
    return out


DatasetUpdate = create_model(
    "DatasetUpdate", __base__=SQLModel,
    __config__=None, __doc__="Fields left out stay as they are; an explicit ``null`` is "
                             "refused (422).", **_updatable())
DatasetUpdate.model_config.update(extra="forbid", populate_by_name=True)
DatasetUpdate.model_rebuild(force=True)


def column(name: str, model: type[SQLModel] = DatasetCreate) -> str:
    """The column a model field is stored in (its alias on the wire is the column name)."""
    info = model.model_fields[name]
    return info.alias or name


WRITABLE = tuple(column(n) for n in DatasetCreate.model_fields)
UPDATABLE = tuple(column(n, DatasetUpdate) for n in DatasetUpdate.model_fields)


class MeasurePublic(MeasureSpec):
    """A measure as the API shows it: with what its type means (shared.contracts.MEASURE_TYPES),
    so a client (the portal) reads behaviour instead of comparing type names."""

    @computed_field(description="a number: " + "; ".join(
        f"{name}: {t.description}" for name, t in MEASURE_TYPES.items()))
    @property
    def numeric(self) -> bool:
        return self.behaviour.numeric

    @computed_field(description="how totals are made: 'sum' over regions (numeric, additive), "
                                "'per_region' only (a rate), 'none' (text)")
    @property
    def aggregation(self) -> Aggregation:
        return super().aggregation


class DatasetSchemaPublic(DatasetSchemaV1):
    measures: list[MeasurePublic]


class DatasetPublic(DatasetBase):
    model_config = ConfigDict(extra="ignore", populate_by_name=True,
                              serialize_by_alias=True)
    slug: str
    description: str
    frequency: str
    topic: str | None
    tags: list[str]
    license: str
    meta: dict[str, Any] = Field(alias="metadata")
    schema_: DatasetSchemaPublic = Field(alias="schema")
    authoritative: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    retracted_at: datetime | None = None
    retraction_reason: str | None = None
    # up-to-dateness for its frequency (datasets/currency.py)
    last_updated: datetime | None = Field(description="when the records of its newest period "
                                          "last changed (no records: the dataset itself)")
    currency: Currency = Field(description="current for its frequency or how late "
                                           "('mutakhir', 'terlambat 3 bulan')")

    @field_validator("schema_", mode="before")
    @classmethod
    def _schema_as_data(cls, value: Any) -> Any:
        """The store's typed schema, shown with its measures' behaviour."""
        return value.model_dump() if isinstance(value, DatasetSchemaV1) else value


class DatasetsPublic(Page[DatasetPublic]):
    count: int
