"""The comparable series across region changes: one territory over time, each period summed
over the regions of a lineage valid then (an old village against the villages it became)."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.registry.datasets.service import get_dataset
from services.registry.privacy import service as privacy
from services.registry.regions import service as regions_service
from services.registry.statistics import store
from services.registry.statistics.service import (_dimension_filter, _figures, _measure_public,
                                                  _measures, _period_range, _region,
                                                  _region_public)
from shared.auth import Principal
from shared.privacy import ANY, is_masked
from shared.reporting_calendar import in_force, period_end


async def comparable(conn: asyncpg.Connection, slug: str, *, region: str,
                     period: str | None = None, period_from: str | None = None,
                     period_to: str | None = None, measures: list[str] | None = None,
                     dims: dict[str, str], reader: Principal | None = None) -> dict:
    """One territory over time across region changes: per period, the measures summed over
    the regions of ``region``'s lineage (its predecessors and successors) valid in that
    period, e.g. a village before its split against the sum of the villages it became.
    A period's figure is hidden when any part of it is hidden from ``reader``: a sum of
    shown parts reveals nothing a reader could not add up (no differencing)."""
    dataset = await get_dataset(conn, slug)
    schema = dataset["schema"]
    specs = _measures(slug, schema, measures or [], True)
    period_from, period_to = _period_range(dataset, period, period_from, period_to)
    target = await _region(conn, region)
    members = await regions_service.lineage_component(conn, target["code"])
    names = await regions_service.regions_named(conn, members)
    filters = _dimension_filter(schema, dims)
    rows = await store.sums_per_region(
        conn, dataset_id=dataset["id"], codes=members, measures=[m.name for m in specs],
        dims=filters, period_from=period_from, period_to=period_to)
    view = await privacy.view(conn, slug, reader)
    pattern = view and tuple(filters.get(d, ANY) for d in view.dims)
    by_period: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_period.setdefault(r["period"], {})[r["region_code"]] = r["values"]
    periods = []
    for p in sorted(by_period):
        day = period_end(dataset["frequency"], p)
        parts = [c for c in members
                 if in_force(names[c]["valid_from"], names[c]["valid_until"], day)]
        values: dict[str, Any] = {m.name: None for m in specs}
        hidden: dict[str, Any] = {}  # a measure with a hidden part: hidden too
        for code in parts:
            own = by_period[p].get(code, {})
            shown = view.total(code, p, pattern, own) if view else own
            for m in specs:
                if is_masked(shown.get(m.name)):
                    hidden.setdefault(m.name, shown[m.name])
                elif own.get(m.name) is not None:
                    values[m.name] = (values[m.name] or 0) + own[m.name]
        item = _figures({"period": p, "parts": parts,
                         "reporting": sum(1 for c in parts if by_period[p].get(c)),
                         "expected": len(parts), "values": values}, specs)
        item["values"].update(hidden)
        if len(specs) == 1:
            item["value"] = item["values"][specs[0].name]
        periods.append(item)
        item["complete"] = item["reporting"] >= item["expected"] > 0
    return {"dataset": slug, "sum": True, "filters": filters, "region": _region_public(target),
            "region_levels": schema.levels, "measures": [_measure_public(m) for m in specs],
            "period_from": period_from, "period_to": period_to, "periods": periods,
            "comparable": {"regions": [_region_public(names[c]) for c in members],
                           "method": _method(target, members, names)}}


def _method(target: dict, members: list[str], names: dict) -> str:
    if members == [target["code"]]:
        return (f"{target['name']} ({target['code']}) tidak pernah berubah wilayah: deret ini "
                "sama dengan angkanya sendiri.")
    listed = "; ".join(f"{names[c]['name']} ({c})" for c in members)
    return ("Deret sebanding: tiap periode menjumlahkan wilayah yang berlaku pada hari "
            f"terakhir periode itu di antara {listed}, yaitu wilayah yang sama sebelum dan "
            "sesudah pemekaran, penggabungan atau perubahan kode. Angka suatu periode "
            "disembunyikan bila salah satu bagiannya disembunyikan.")
