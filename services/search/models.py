"""The search API's models and the parsed form of a query."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from shared.pagination import Page

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
    current: bool = False              # only datasets (and their records) not past due
    current_datasets: tuple[str, ...] | None = None  # `current` resolved at query time
    region_level: str | None = None    # the region filter's level, read at query time


@dataclass(frozen=True)
class ParsedQuery:
    """A query as the store runs it: per typed word, the alternatives that may stand for it."""

    text: str                           # normalised words joined by spaces
    corrected: str                      # the same with each misspelt word replaced
    groups: tuple[tuple[str, ...], ...] = ()
    labels: tuple[str, ...] = ()        # per group, the word(s) typed for it
    prefix: str | None = None           # the last word, matched as a prefix while typing
    level: int | None = None            # wanted place level, as parts of its code (2, 3, 4)
    year: str | None = None             # a year typed: records of that year are preferred
    sex: str | None = None              # "Laki-laki"/"Perempuan" typed: those records preferred
    ignored: tuple[str, ...] = ()       # question, filler and level words not matched

    @property
    def empty(self) -> bool:
        return not self.groups


# How the records of a query are ordered, decided on its first page and kept by its cursor:
#   RANKED  few match: every match ranked (ts_rank_cd and the preferences)
#   WALK    many match: records walked in stored static-rank order, never ranked all
#   PARTIAL no record has every word: ranked by how many words match, best candidates only
RANKED, WALK, PARTIAL = "ranked", "walk", "partial"
MODES = (RANKED, WALK, PARTIAL)


@dataclass(frozen=True)
class Cursor:
    score: float
    doc_id: str
    snapshot: int
    query_hash: str
    mode: str = RANKED


@dataclass(frozen=True)
class Counts:
    """The total and facet counts of a query; `exact` False makes them lower bounds."""

    total: int = 0
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    exact: bool = True
    every_word: int = 0   # of them, documents matching every word (not a near name only)
    records: int = 0      # record matches counted (EXACT_UP_TO + 1 at most when not exact)
    first_ids: tuple[str, ...] | None = None  # the records a first page can show, read with
                                              # the counts (facets.count first_page)
    # the regions and datasets matched (doc_id, score), read with the counts: the page takes
    # them from here rather than match them again
    others: tuple[tuple[str, float], ...] = ()
    # the first page's items (a page's length + 1 at most), where the counts chose its
    # records (facets.count first_page): page.fetch's, without a statement of its own
    first_page: list[dict[str, Any]] | None = None


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
    verification_status: Literal["terverifikasi", "sedang_diverifikasi"] | None = Field(
        None, description="a record's mark: 'sedang_diverifikasi' while a newer "
                          "value waits for the walidata; its values are the last verified ones")
    url: str


class FacetValue(BaseModel):
    value: str
    count: int
    label: str | None = None


class AskedFigure(BaseModel):
    """The figure a question names: ask ``/v1/aggregates`` for it (summed by the registry)."""
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(examples=["jumlah-penduduk"])
    dataset_title: str = Field(examples=["Jumlah Penduduk"])
    region_code: str = Field(examples=["64.08.08"])
    region_name: str = Field(examples=["Kombeng"])
    region_level: str = Field(examples=["kecamatan"])
    year: str | None = Field(None, description="the year typed; none: the latest period")
    dimensions: dict[str, str] = Field({}, description="dimension filters the query names "
                                       "(a sex typed: {'jenis_kelamin': 'P'})")
    dimension_labels: list[str] = Field([], examples=[["Perempuan"]],
                                        description="those values as people read them")


class SearchResults(Page[SearchItem]):
    model_config = ConfigDict(extra="forbid")

    query: str
    facets: dict[str, list[FacetValue]]
    total: int
    exact: bool = Field(True, description="false: `total` and facet counts are lower bounds "
                        "(more than 10.000 matches)")
    partial: bool = Field(False, description="no result has every word: the best partial "
                          "matches, ranked by how many words they match")
    ignored_words: list[str] = Field([], description="question, filler and level words that "
                                     "were not matched")
    unmatched_words: list[str] = Field([], description="typed words no published document "
                                       "holds (nothing is published about them yet); the "
                                       "answer is for the other words")
    suggestion: str | None = Field(None, description="nothing matched: the query as the "
                                   "closest known words spell it")
    message: str | None = Field(None, description="what the answer is, for the citizen")
    figure: AskedFigure | None = Field(None, description="the query asks for one figure (a "
                                       "dataset at a place; first page only): the portal "
                                       "shows it first, summed by /v1/aggregates")
