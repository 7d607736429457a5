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
from shared.errors import BadRequest, NotFound, Unprocessable


def _check_period(dataset: dict, period: str) -> None:
    if not valid_period(dataset["frequency"], period):
        example = PERIOD_PATTERNS[dataset["frequency"]][1]
        raise Unprocessable(f"Periode '{period}' tidak sesuai frekuensi dataset "
                            f"({dataset['frequency']}); contoh: {example}.", code="period_format")


def _measure(dataset: dict, name: str | None) -> dict:
    measures = dataset["schema"].get("measures", [])
    additive = [m for m in measures if m.get("additive") and m.get("type") != "text"]
    if name is None:
        if len(additive) == 1:
            return additive[0]
        raise Unprocessable("Sebutkan ukuran yang dijumlahkan: ?measure=<nama>; ukuran aditif: "
                            f"{', '.join(m['name'] for m in additive) or '(tidak ada)'}.",
                            code="measure_required")
    spec = next((m for m in measures if m["name"] == name), None)
    if spec is None:
        raise Unprocessable(f"Ukuran '{name}' tidak ada di dataset {dataset['slug']}; ukuran: "
                            f"{', '.join(m['name'] for m in measures)}.", code="unknown_measure")
    if spec not in additive:
        raise Unprocessable(
            f"Ukuran '{name}' ({spec.get('label', name)}) tidak aditif, jadi tidak boleh "
            "dijumlahkan antarwilayah (mis. rasio, persentase, rata-rata). Ukuran aditif: "
            f"{', '.join(m['name'] for m in additive) or '(tidak ada)'}.",
            code="measure_not_additive")
    return spec


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
    return int(value) if spec.get("type") == "integer" else float(value)


async def _region(conn: asyncpg.Connection, code: str | None) -> dict:
    code = code or await store.root_region(conn)
    region = await store.get_region(conn, code) if code else None
    if region is None:
        raise NotFound(f"Wilayah '{code}' tidak ada.", code="region_not_found")
    return region


def _rate(reporting: int, expected: int) -> float | None:
    return round(reporting / expected, 4) if expected else None


async def aggregate(conn: asyncpg.Connection, slug: str, *, period: str, measure: str | None,
                    region: str | None, dims: dict[str, str]) -> dict:
    """An additive measure summed over ``region`` and over each of its children, with how
    many reporting units (regions at the dataset's levels) reported out of how many exist."""
    dataset = await service.get_dataset(conn, slug)
    spec = _measure(dataset, measure)
    _check_period(dataset, period)
    filters = _dimension_filter(dataset, dims)
    target = await _region(conn, region)
    levels = dataset["schema"].get("region_levels") or ["desa", "kelurahan"]
    rows = await store.aggregate_children(
        conn, dataset_id=dataset["id"], period=period, measure=spec["name"],
        region=target["code"], depth=len(target["path"]), levels=levels, dims=filters)
    names = await store.regions_named(conn, [r["child"] for r in rows if r["child"]])
    children = []
    for r in sorted((r for r in rows if r["child"]), key=lambda r: r["child"]):
        child = names[r["child"]]
        children.append({"region": {"code": child["code"], "name": child["name"],
                                    "level": child["level"]},
                         "value": _number(r["value"], spec), "reporting": r["reporting"],
                         "expected": r["expected"],
                         "rate": _rate(r["reporting"], r["expected"])})
    sums = [r["value"] for r in rows if r["value"] is not None]
    reporting = sum(r["reporting"] for r in rows)
    expected = sum(r["expected"] for r in rows)
    return {"dataset": slug, "period": period, "measure": spec["name"],
            "unit": spec.get("unit"), "filters": filters,
            "region": {"code": target["code"], "name": target["name"],
                       "level": target["level"]},
            "value": _number(sum(sums) if sums else None, spec),
            "reporting": reporting, "expected": expected, "rate": _rate(reporting, expected),
            "children": children}


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
                                "reported" if u["reported"] else "missing")}
                    for u in units],
    }
