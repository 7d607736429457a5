"""Reading across regions: aggregates up the hierarchy and reporting completeness.

Both are computed from the master records at query time (always current), with one set-based
query each over the region tree's ``path`` arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

import asyncpg

from services.registry.datasets.service import get_dataset
from services.registry.privacy import service as privacy
from services.registry.regions import service as regions_service
from services.registry.statistics import store
from shared.reporting_calendar import PERIOD_PATTERNS, in_force, period_end, valid_period
from services.registry.verification.service import mark_unverified
from shared.auth import Principal
from shared.contracts import DatasetSchemaV1, MeasureSpec
from shared.errors import NotFound, Unprocessable, unknown_parameter


def _check_period(dataset: dict, period: str) -> None:
    if not valid_period(dataset["frequency"], period):
        example = PERIOD_PATTERNS[dataset["frequency"]][1]
        raise Unprocessable(f"Periode '{period}' tidak sesuai frekuensi dataset "
                            f"({dataset['frequency']}); contoh: {example}.", code="period_format")


def _measures(slug: str, schema: DatasetSchemaV1, names: list[str], summed: bool
              ) -> list[MeasureSpec]:
    """The measures asked for (default: every additive one when summing, every numeric one
    otherwise). A sum of a non-additive measure (a ratio, a percentage, an average) is
    refused: its values are shown per region only (``sum=false``)."""
    measures = schema.measures
    additive = [m for m in schema.numeric_measures if m.additive]
    if not names:
        if summed and additive:
            return additive
        if not summed and schema.numeric_measures:
            return schema.numeric_measures
        raise Unprocessable("Sebutkan ukuran yang dijumlahkan: ?measure=<nama>; ukuran aditif: "
                            f"{', '.join(m.name for m in additive) or '(tidak ada)'}.",
                            code="measure_required")
    chosen = []
    for name in dict.fromkeys(names):
        spec = next((m for m in measures if m.name == name), None)
        if spec is None:
            raise Unprocessable(
                f"Ukuran '{name}' tidak ada di dataset {slug}; ukuran: "
                f"{', '.join(m.name for m in measures)}.", code="unknown_measure")
        if not spec.numeric:
            raise Unprocessable(f"Ukuran '{name}' berupa teks, bukan angka.",
                                code="measure_not_numeric")
        if summed and spec not in additive:
            raise Unprocessable(
                f"Ukuran '{name}' ({spec.label or name}) tidak aditif, jadi tidak boleh "
                "dijumlahkan antarwilayah (mis. rasio, persentase, rata-rata); nilainya per "
                "wilayah tersedia dengan sum=false. Ukuran aditif: "
                f"{', '.join(m.name for m in additive) or '(tidak ada)'}.",
                code="measure_not_additive")
        chosen.append(spec)
    return chosen


def _dimension_filter(schema: DatasetSchemaV1, dims: dict[str, str]) -> dict[str, str]:
    """Dimension filters by code or label, e.g. ``jenis_kelamin=P`` or ``=Perempuan``."""
    specs = {d.name: d for d in schema.dimensions}
    unknown = sorted(set(dims) - set(specs))
    if unknown:
        raise unknown_parameter(unknown, [], dimensions=[d.name for d in schema.dimensions])
    out = {}
    for name, value in dims.items():
        allowed = specs[name].values
        out[name] = next((k for k, label in allowed.items()
                          if value.upper() in (k.upper(), str(label).upper())), value)
    return out


def _number(value: Decimal | None, spec: MeasureSpec) -> Any:
    if value is None:
        return None
    return int(value) if spec.behaviour.whole else float(value)


async def _region(conn: asyncpg.Connection, code: str | None) -> dict:
    code = code or await regions_service.root_region(conn)
    region = await regions_service.get_region(conn, code) if code else None
    if region is None:
        raise NotFound(f"Wilayah '{code}' tidak ada.", code="region_not_found")
    return region


def _rate(reporting: int, expected: int) -> float | None:
    return round(reporting / expected, 4) if expected else None


def _region_public(region: dict) -> dict:
    return {"code": region["code"], "name": region["name"], "level": region["level"]}


def _measure_public(spec: MeasureSpec) -> dict:
    return {"name": spec.name, "label": spec.label or spec.name, "unit": spec.unit,
            "type": spec.type, "additive": spec.additive}


def _period_range(dataset: dict, period: str | None, period_from: str | None,
                  period_to: str | None) -> tuple[str | None, str | None]:
    if period:
        period_from = period_to = period
    for p in (period_from, period_to):
        if p is not None:
            _check_period(dataset, p)
    if period_from and period_to and period_from > period_to:
        raise Unprocessable(f"period_from ({period_from}) lebih besar dari period_to "
                            f"({period_to}).", code="period_range")
    return period_from, period_to


async def aggregate(conn: asyncpg.Connection, slug: str, *, period: str | None = None,
                    period_from: str | None = None, period_to: str | None = None,
                    measures: list[str] | None = None, region: str | None,
                    dims: dict[str, str], summed: bool = True,
                    reader: Principal | None = None) -> dict:
    """Per period in the range (none: every period with data): the measures summed over
    ``region`` and each of its children, with how many reporting units (regions at the
    dataset's levels) reported out of how many exist, and the rate.

    ``summed=False`` lists each region's own values instead (any numeric measure, never
    added up). With one ``period`` asked, its figures are also repeated at the top level, and
    with one measure each figure also carries ``value`` (the shape of one-period callers).
    """
    dataset = await get_dataset(conn, slug)
    schema = dataset["schema"]
    specs = _measures(slug, schema, measures or [], summed)
    period_from, period_to = _period_range(dataset, period, period_from, period_to)
    target = await _region(conn, region)
    q = _Query(dataset_id=dataset["id"], measures=[m.name for m in specs],
               region=target["code"], depth=len(target["path"]),
               levels=schema.levels,
               dims=_dimension_filter(schema, dims), period_from=period_from,
               period_to=period_to)
    units = await store.expected_units(conn, region=q.region, depth=q.depth, levels=q.levels)

    def expected(p: str) -> dict[str | None, int]:
        """Units per child valid in period ``p`` (on its last day)."""
        day, out = period_end(dataset["frequency"], p), {}
        for u in units:
            if in_force(u["valid_from"], u["valid_until"], day):
                out[u["child"]] = out.get(u["child"], 0) + u["expected"]
        return out

    periods = _Periods(q.measures, expected, asked=period)
    if summed:
        await _summed(conn, q, specs, {u["child"] for u in units}, periods)
    else:
        await _per_region(conn, q, specs, periods)
    _mark_held(periods, await store.held_per_child(
        conn, depth=q.depth, **{k: v for k, v in q.args().items() if k != "measures"}))
    items = [_figures(periods.by_period[p], specs) for p in sorted(periods.by_period)]
    for e in items:
        e["complete"] = e["expected"] > 0 and e["reporting"] >= e["expected"]
    body = {"dataset": slug, "sum": summed, "filters": q.dims,
            "region": _region_public(target), "region_levels": q.levels,
            "measures": [_measure_public(m) for m in specs],
            "period_from": period_from, "period_to": period_to, "periods": items}
    if period:
        body.update({k: v for k, v in items[0].items()})
    if len(specs) == 1:
        body.update(measure=specs[0].name, unit=specs[0].unit)
    return await privacy.mask_aggregate(conn, body, reader)  # as ``reader`` sees


@dataclass
class _Query:
    dataset_id: int
    measures: list[str]
    region: str
    depth: int
    levels: list[str]
    dims: dict[str, str]
    period_from: str | None
    period_to: str | None

    def args(self) -> dict:
        return {"dataset_id": self.dataset_id, "measures": self.measures,
                "region": self.region, "levels": self.levels, "dims": self.dims,
                "period_from": self.period_from, "period_to": self.period_to}


class _Periods:
    """One figure per period, created on first sight with every measure empty; the one
    period ``asked`` for is there even without data (``ensure_asked``)."""

    def __init__(self, names: list[str], expected: Callable[[str], dict],
                 asked: str | None) -> None:
        self.names, self.expected, self.asked = names, expected, asked
        self.by_period: dict[str, dict] = {}

    def ensure_asked(self) -> None:
        if self.asked and not self.by_period:
            self.entry(self.asked)

    def entry(self, p: str) -> dict:
        if p not in self.by_period:
            self.by_period[p] = {"period": p, "values": dict.fromkeys(self.names),
                                 "reporting": 0, "expected": sum(self.expected(p).values())}
        return self.by_period[p]


async def _summed(conn: asyncpg.Connection, q: _Query, specs: list[MeasureSpec],
                  children_with_units: set, periods: _Periods) -> None:
    """Each period's sums over the region, and the same per child of the region."""
    rows = await store.aggregate_periods(conn, depth=q.depth, **q.args())
    children: dict[str, dict[str, dict]] = {}
    for r in rows:
        e = periods.entry(r["period"])
        children.setdefault(r["period"], {})[r["child"]] = r
        e["reporting"] += r["reporting"]
        for name, value in r["values"].items():
            if value is not None:
                e["values"][name] = value + (e["values"][name] or 0)
    child_codes = [c for c in children_with_units if c] + [
        c for k in children.values() for c in k if c]
    regions = await regions_service.regions_named(conn, list(set(child_codes)))
    periods.ensure_asked()
    for p, e in periods.by_period.items():
        kids = children.get(p, {})
        expected = periods.expected(p)
        e["children"] = [
            _figures({"region": _region_public(regions[code]),
                      "values": kids.get(code, {}).get("values", dict.fromkeys(q.measures)),
                      "reporting": kids.get(code, {}).get("reporting", 0),
                      "expected": expected.get(code, 0)}, specs)
            for code in sorted({c for c, n in expected.items() if n} | set(kids),
                               key=lambda c: (c is None, c))
            if code is not None]


async def _per_region(conn: asyncpg.Connection, q: _Query, specs: list[MeasureSpec],
                      periods: _Periods) -> None:
    """Each region's own values, never added up (non-additive measures)."""
    rows = await store.values_per_region(conn, **q.args())
    regions = await regions_service.regions_named(conn, list({r["region_code"] for r in rows}))
    reporting: dict[str, set] = {}
    for r in rows:
        e = periods.entry(r["period"])
        e.setdefault("regions", []).append(
            _figures({"region": _region_public(regions[r["region_code"]]),
                      "dimensions": r["dims"],
                      "values": {m: r["vals"].get(m) for m in q.measures}}, specs, rate=False))
        if r["is_unit"]:
            reporting.setdefault(r["period"], set()).add(r["region_code"])
    periods.ensure_asked()
    for p, e in periods.by_period.items():
        e["reporting"] = len(reporting.get(p, ()))
        e.setdefault("regions", [])


def _mark_held(periods: _Periods, held: list[dict]) -> None:
    """Each figure says how many of its values await the walidata (the figure
    itself keeps their last verified values), on the period, each child and each region."""
    for e in periods.by_period.values():
        for item in [e, *e.get("children", []), *e.get("regions", [])]:
            item["held"] = 0
    for h in held:
        e = periods.by_period.get(h["period"])
        if e is None:
            continue
        children = [c for c in e.get("children", []) if c["region"]["code"] == h["child"]]
        regions = [r for r in e.get("regions", []) if r["region"]["code"] == h["region_code"]
                   and r["dimensions"] == h["dims"]]
        for item in [e, *children, *regions]:
            item["held"] += h["held"]
            item["verification_status"] = "sedang_diverifikasi"


def _figures(item: dict, specs: list[MeasureSpec], rate: bool = True) -> dict:
    """Numbers typed as their measure; ``rate`` from reporting/expected; with one measure,
    its value also as ``value``."""
    by_name = {m.name: m for m in specs}
    item["values"] = {k: _number(v, by_name[k]) for k, v in item["values"].items()}
    if rate:
        item["rate"] = _rate(item["reporting"], item["expected"])
    if len(specs) == 1:
        item["value"] = item["values"][specs[0].name]
    return item


async def completeness(conn: asyncpg.Connection, slug: str, *, period: str,
                       region: str | None) -> dict:
    """Which units reported the period, which are missing, which are in conflict; the
    reporting rate per kecamatan."""
    dataset = await get_dataset(conn, slug)
    _check_period(dataset, period)
    target = await _region(conn, region)
    levels = dataset["schema"].levels
    units = await store.completeness_units(conn, dataset_id=dataset["id"], period=period,
                                           levels=levels, region=target["code"])
    units = await mark_unverified(conn, dataset["id"], period, units)
    groups: dict[str, dict] = {}
    for u in units:
        g = groups.setdefault(u["kecamatan"], {"code": u["kecamatan"], "expected": 0,
                                               "reported": 0, "in_conflict": 0})
        g["expected"] += 1
        g["reported"] += u["reported"]
        g["in_conflict"] += u["in_conflict"]
    names = await regions_service.regions_named(conn, list(groups))
    per_kecamatan = []
    for code in sorted(groups):
        g = groups[code]
        per_kecamatan.append({**g, "name": names.get(code, {}).get("name", code),
                              "missing": g["expected"] - g["reported"],
                              "rate": _rate(g["reported"], g["expected"])})
    expected, reported = len(units), sum(u["reported"] for u in units)
    return {
        "dataset": slug, "period": period, "region_levels": levels,
        "region": {"code": target["code"], "name": target["name"], "level": target["level"]},
        "expected": expected, "reported": reported, "missing": expected - reported,
        "in_conflict": sum(u["in_conflict"] for u in units), "rate": _rate(reported, expected),
        "kecamatan": per_kecamatan,
        "regions": [{"code": u["code"], "name": u["name"], "level": u["level"],
                     "kecamatan": u["kecamatan"],
                     "status": ("conflict" if u["in_conflict"] else
                                "unverified" if u.get("unverified") else
                                "reported" if u["reported"] else "missing")}
                    for u in units],
    }
