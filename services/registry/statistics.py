"""Reading across regions: aggregates up the hierarchy and reporting completeness.

Both are computed from the master records at query time (always current), with one set-based
query each over the region tree's ``path`` arrays.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from services.registry import service, store
from services.registry.validation import PERIOD_PATTERNS, valid_period
from services.registry.verification.service import mark_unverified
from shared.errors import BadRequest, NotFound, Unprocessable


def _check_period(dataset: dict, period: str) -> None:
    if not valid_period(dataset["frequency"], period):
        example = PERIOD_PATTERNS[dataset["frequency"]][1]
        raise Unprocessable(f"Periode '{period}' tidak sesuai frekuensi dataset "
                            f"({dataset['frequency']}); contoh: {example}.", code="period_format")


def _numeric(dataset: dict) -> list[dict]:
    return [m for m in dataset["schema"].get("measures", []) if m.get("type") != "text"]


def _measures(dataset: dict, names: list[str], summed: bool) -> list[dict]:
    """The measures asked for (default: every additive one when summing, every numeric one
    otherwise). A sum of a non-additive measure (a ratio, a percentage, an average) is
    refused: its values are shown per region only (``sum=false``)."""
    measures = dataset["schema"].get("measures", [])
    additive = [m for m in _numeric(dataset) if m.get("additive")]
    if not names:
        if summed and additive:
            return additive
        if not summed and _numeric(dataset):
            return _numeric(dataset)
        raise Unprocessable("Sebutkan ukuran yang dijumlahkan: ?measure=<nama>; ukuran aditif: "
                            f"{', '.join(m['name'] for m in additive) or '(tidak ada)'}.",
                            code="measure_required")
    chosen = []
    for name in dict.fromkeys(names):
        spec = next((m for m in measures if m["name"] == name), None)
        if spec is None:
            raise Unprocessable(
                f"Ukuran '{name}' tidak ada di dataset {dataset['slug']}; ukuran: "
                f"{', '.join(m['name'] for m in measures)}.", code="unknown_measure")
        if spec.get("type") == "text":
            raise Unprocessable(f"Ukuran '{name}' berupa teks, bukan angka.",
                                code="measure_not_numeric")
        if summed and spec not in additive:
            raise Unprocessable(
                f"Ukuran '{name}' ({spec.get('label', name)}) tidak aditif, jadi tidak boleh "
                "dijumlahkan antarwilayah (mis. rasio, persentase, rata-rata); nilainya per "
                "wilayah tersedia dengan sum=false. Ukuran aditif: "
                f"{', '.join(m['name'] for m in additive) or '(tidak ada)'}.",
                code="measure_not_additive")
        chosen.append(spec)
    return chosen


def _dimension_filter(dataset: dict, dims: dict[str, str]) -> dict[str, str]:
    """Dimension filters by code or label, e.g. ``jenis_kelamin=P`` or ``=Perempuan``."""
    specs = {d["name"]: d for d in dataset["schema"].get("dimensions", [])}
    unknown = sorted(set(dims) - set(specs))
    if unknown:
        raise BadRequest(f"Filter tidak dikenal: {', '.join(unknown)}.", code="unknown_filter")
    out = {}
    for name, value in dims.items():
        allowed = specs[name].get("values") or {}
        out[name] = next((k for k, label in allowed.items()
                          if value.upper() in (k.upper(), str(label).upper())), value)
    return out


def _number(value: Decimal | None, spec: dict) -> Any:
    if value is None:
        return None
    return int(value) if spec.get("type", "integer") == "integer" else float(value)


async def _region(conn: asyncpg.Connection, code: str | None) -> dict:
    code = code or await store.root_region(conn)
    region = await store.get_region(conn, code) if code else None
    if region is None:
        raise NotFound(f"Wilayah '{code}' tidak ada.", code="region_not_found")
    return region


def _rate(reporting: int, expected: int) -> float | None:
    return round(reporting / expected, 4) if expected else None


def _region_public(region: dict) -> dict:
    return {"code": region["code"], "name": region["name"], "level": region["level"]}


def _measure_public(spec: dict) -> dict:
    return {"name": spec["name"], "label": spec.get("label", spec["name"]),
            "unit": spec.get("unit"), "type": spec.get("type", "integer"),
            "additive": bool(spec.get("additive"))}


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
                    dims: dict[str, str], summed: bool = True) -> dict:
    """Per period in the range (none: every period with data): the measures summed over
    ``region`` and each of its children, with how many reporting units (regions at the
    dataset's levels) reported out of how many exist, and the rate.

    ``summed=False`` lists each region's own values instead (any numeric measure, never
    added up). With one ``period`` asked, its figures are also repeated at the top level, and
    with one measure each figure also carries ``value`` (the shape of one-period callers).
    """
    dataset = await service.get_dataset(conn, slug)
    specs = _measures(dataset, measures or [], summed)
    period_from, period_to = _period_range(dataset, period, period_from, period_to)
    filters = _dimension_filter(dataset, dims)
    target = await _region(conn, region)
    levels = dataset["schema"].get("region_levels") or ["desa", "kelurahan"]
    names = [m["name"] for m in specs]
    depth = len(target["path"])
    expected = await store.expected_units(conn, region=target["code"], depth=depth,
                                          levels=levels)
    total_expected = sum(expected.values())
    periods: dict[str, dict] = {}

    def entry(p: str) -> dict:
        return periods.setdefault(p, {"period": p, "values": dict.fromkeys(names),
                                      "reporting": 0, "expected": total_expected})

    if summed:
        rows = await store.aggregate_periods(
            conn, dataset_id=dataset["id"], measures=names, region=target["code"], depth=depth,
            levels=levels, dims=filters, period_from=period_from, period_to=period_to)
        children: dict[str, dict[str, dict]] = {}
        for r in rows:
            e = entry(r["period"])
            children.setdefault(r["period"], {})[r["child"]] = r
            e["reporting"] += r["reporting"]
            for name, value in r["values"].items():
                if value is not None:
                    e["values"][name] = value + (e["values"][name] or 0)
        child_codes = [c for c in expected if c] + [c for k in children.values() for c in k if c]
        regions = await store.regions_named(conn, list(set(child_codes)))
        if period and not periods:
            entry(period)
        for p, e in periods.items():
            kids = children.get(p, {})
            e["children"] = [
                _figures({"region": _region_public(regions[code]),
                          "values": kids.get(code, {}).get("values", dict.fromkeys(names)),
                          "reporting": kids.get(code, {}).get("reporting", 0),
                          "expected": expected.get(code, 0)}, specs)
                for code in sorted(set(expected) | set(kids), key=lambda c: (c is None, c))
                if code is not None]
    else:
        rows = await store.values_per_region(
            conn, dataset_id=dataset["id"], measures=names, region=target["code"],
            levels=levels, dims=filters, period_from=period_from, period_to=period_to)
        regions = await store.regions_named(conn, list({r["region_code"] for r in rows}))
        reporting: dict[str, set] = {}
        for r in rows:
            e = entry(r["period"])
            e.setdefault("regions", []).append(
                _figures({"region": _region_public(regions[r["region_code"]]),
                          "dimensions": r["dims"],
                          "values": {m: r["vals"].get(m) for m in names}}, specs, rate=False))
            if r["is_unit"]:
                reporting.setdefault(r["period"], set()).add(r["region_code"])
        if period and not periods:
            entry(period)
        for p, e in periods.items():
            e["reporting"] = len(reporting.get(p, ()))
            e.setdefault("regions", [])
    items = [_figures(periods[p], specs) for p in sorted(periods)]
    for e in items:
        e["complete"] = e["expected"] > 0 and e["reporting"] >= e["expected"]
    body = {"dataset": slug, "sum": summed, "filters": filters,
            "region": _region_public(target), "region_levels": levels,
            "measures": [_measure_public(m) for m in specs],
            "period_from": period_from, "period_to": period_to, "periods": items}
    if period:
        body.update({k: v for k, v in items[0].items()})
    if len(specs) == 1:
        body.update(measure=specs[0]["name"], unit=specs[0].get("unit"))
    return body


def _figures(item: dict, specs: list[dict], rate: bool = True) -> dict:
    """Numbers typed as their measure; ``rate`` from reporting/expected; with one measure,
    its value also as ``value``."""
    by_name = {m["name"]: m for m in specs}
    item["values"] = {k: _number(v, by_name[k]) for k, v in item["values"].items()}
    if rate:
        item["rate"] = _rate(item["reporting"], item["expected"])
    if len(specs) == 1:
        item["value"] = item["values"][specs[0]["name"]]
    return item


async def completeness(conn: asyncpg.Connection, slug: str, *, period: str,
                       region: str | None) -> dict:
    """Which units reported the period, which are missing, which are in conflict; the
    reporting rate per kecamatan."""
    dataset = await service.get_dataset(conn, slug)
    _check_period(dataset, period)
    target = await _region(conn, region)
    levels = dataset["schema"].get("region_levels") or ["desa", "kelurahan"]
    units = await store.completeness_units(conn, dataset_id=dataset["id"], period=period,
                                           levels=levels, region=target["code"])
    units = await mark_unverified(conn, dataset["id"], period, units)  # issue 14
    groups: dict[str, dict] = {}
    for u in units:
        g = groups.setdefault(u["kecamatan"], {"code": u["kecamatan"], "expected": 0,
                                               "reported": 0, "in_conflict": 0})
        g["expected"] += 1
        g["reported"] += u["reported"]
        g["in_conflict"] += u["in_conflict"]
    names = await store.regions_named(conn, list(groups))
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
