"""Answers of the aggregate and completeness routes (typed so OpenAPI shows them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from services.registry.models import Open, RegionRef
from services.registry.privacy.models import Suppressed


Number = float | int | Suppressed | None  # a hidden small count


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
    held: int = Field(0, description="values awaiting the walidata's verification in this "
                                     "figure (counted at their last verified value)")
    verification_status: Literal["sedang_diverifikasi"] | None = Field(
        None, description="set while any value in this figure awaits verification")


class AggregatePeriod(Open):
    period: str = Field(examples=["2024"])
    values: dict[str, Number] = Field(examples=[{"jumlah": 412345}])
    value: Number = None
    reporting: int = Field(examples=[139])
    expected: int = Field(examples=[141])
    rate: float | None = Field(None, examples=[0.9858])
    complete: bool
    held: int = Field(0, description="values awaiting the walidata's verification in this "
                                     "figure (counted at their last verified value)")
    verification_status: Literal["sedang_diverifikasi"] | None = Field(
        None, description="set while any value in this figure awaits verification")
    children: list[AggregateFigures] | None = None
    regions: list[AggregateFigures] | None = None
    parts: list[str] | None = Field(None, description="with ?comparable=true: the regions "
                                    "of the lineage summed in this period")


class AggregateMeasure(Open):
    name: str
    label: str
    unit: str | None = None
    type: str
    additive: bool


class Comparable(Open):
    regions: list[RegionRef] = Field(description="the regions of the lineage")
    method: str = Field(description="how the series was built, in Indonesian")


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
    comparable: Comparable | None = Field(None, description="with ?comparable=true")
    # with one measure asked: its name and unit
    measure: str | None = Field(None, examples=["jumlah"])
    unit: str | None = Field(None, examples=["jiwa"])
    # with ?period=: that period's figure, also at the top level (as in ``periods``)
    period: str | None = Field(None, examples=["2024"])
    values: dict[str, Number] | None = None
    value: Number = None
    reporting: int | None = None
    expected: int | None = None
    rate: float | None = None
    complete: bool | None = None
    held: int | None = None
    verification_status: Literal["sedang_diverifikasi"] | None = None
    children: list[AggregateFigures] | None = None
    regions: list[AggregateFigures] | None = None
    parts: list[str] | None = None


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
    status: Literal["reported", "missing", "conflict", "unverified"] | str


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
