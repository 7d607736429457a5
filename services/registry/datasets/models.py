"""Dataset API models: the SQLModel chain DatasetBase -> DatasetCreate / DatasetUpdate ->
DatasetPublic. The writable fields are the Create model's; the updatable ones are derived
from the same list (every field of DatasetBase, and the schema), so a field added to the
base is also accepted by PATCH and written by the store (datasets/store.py reads the lists
here). The table itself is declared once, in services/registry/tables.py.

The ``metadata`` column is the attribute ``meta`` (SQLAlchemy reserves ``metadata``); on the
wire it stays ``metadata``.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, create_model
from sqlmodel import Field, SQLModel

from services.registry.timeliness.models import Currency
from shared.contracts import DatasetSchemaV1
from shared.validation import Description, JsonObject, Text, Title

Frequency = Literal["annual", "semester", "quarterly", "monthly"]
NEXT_CURSOR = "pass as ?cursor= for the next page; null on the last page"

# Satu Data Indonesia (Perpres 39/2019): every dataset names who produces it, who stewards
# it, what it counts and in which unit. Checked on create and on every update.
REQUIRED_METADATA = ("produsen_data", "walidata", "konsep", "definisi", "satuan")


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
    schema_: dict[str, Any] = Field(alias="schema")
    authoritative: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    retracted_at: datetime | None = None
    retraction_reason: str | None = None
    # up-to-dateness, from the timeliness topic (timeliness/currency.py)
    last_updated: datetime | None = Field(description="when the records of its newest period "
                                          "last changed (no records: the dataset itself)")
    currency: Currency = Field(description="current for its frequency or how late "
                                           "('mutakhir', 'terlambat 3 bulan')")


class DatasetsPublic(SQLModel):
    items: list[DatasetPublic]
    count: int
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)
