"""The search API's models and the parsed form of a query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal["dataset", "region", "record"]
FACETS = ("kind", "dataset", "topic", "kecamatan", "period", "publisher")


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    dataset: str | None = None
    topic: str | None = None
    region: str | None = None          # a region code: the region and all its descendants
    period_from: str | None = None
    period_to: str | None = None       # inclusive, sub-periods too: "2024" keeps "2024-05"
    publisher: str | None = None


@dataclass(frozen=True)
class ParsedQuery:
    """A query as the store runs it: per typed word, the alternatives that may stand for it."""

    text: str                           # normalised words joined by spaces
    corrected: str                      # the same with each misspelt word replaced
    groups: tuple[tuple[str, ...], ...] = ()
    prefix: str | None = None           # the last word, matched as a prefix while typing

    @property
    def empty(self) -> bool:
        return not self.groups


@dataclass(frozen=True)
class Cursor:
    score: float
    doc_id: str
    snapshot: int
    query_hash: str
    ranked: bool = True


@dataclass
class SearchPage:
    items: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    snapshot: int = 0
    ranked: bool = True


class SearchItem(BaseModel):
    kind: Kind
    id: str
    title: str
    snippet: str
    score: float
    dataset: str | None = None
    region_code: str | None = None
    region_name: str | None = None
    period: str | None = None
    values: dict[str, Any] | None = None
    url: str


class FacetValue(BaseModel):
    value: str
    count: int
    label: str | None = None


class SearchResults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    items: list[SearchItem]
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
    total: int
