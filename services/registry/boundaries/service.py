"""Region boundaries for the portal's maps: the walidata loads a GeoJSON FeatureCollection (a
national geospatial file, a decree's annex, or generated sample polygons marked ``sample``)
with the dates it holds between, like the regions themselves; a region page asks for its
children's boundaries on the last day of the period it shows."""

from __future__ import annotations

import re

import asyncpg

from services.registry.audit import service as audit
from services.registry.boundaries import sample, store
from services.registry.regions import service as regions
from shared.auth import Principal
from shared.errors import Unprocessable


def _digits(code: str) -> str:
    """'64.08.04.2001' and '6408042001' name the same region."""
    return re.sub(r"\D", "", str(code))


async def load(conn: asyncpg.Connection, principal: Principal, upload: dict) -> dict:
    """Every feature's code must be a region (dots optional); nothing is stored otherwise."""
    if upload["valid_from"] and upload["valid_until"] and \
            upload["valid_until"] <= upload["valid_from"]:
        raise Unprocessable("valid_until harus sesudah valid_from.", code="invalid_validity")
    by_digits = {_digits(r["code"]): r["code"] for r in await regions.all_regions(conn)}
    rows, unknown = [], []
    for n, feature in enumerate(upload["features"]):
        code = by_digits.get(_digits(feature["properties"]["code"]))
        if code is None:
            unknown.append((n, feature["properties"]["code"]))
        else:
            rows.append((code, feature["geometry"]))
    if unknown:
        raise Unprocessable(
            "Kode wilayah tidak dikenal: " + ", ".join(str(c) for _, c in unknown[:20])
            + ". Tulis kode Kemendagri (64.08.04.2001 atau 6408042001).",
            code="unknown_region",
            details=[{"field": f"features.{n}.properties.code", "code": "unknown_region"}
                     for n, _ in unknown[:100]])
    codes = [code for code, _ in rows]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise Unprocessable(f"Wilayah muncul lebih dari sekali: {', '.join(twice[:20])}.",
                            code="duplicate_region")
    await store.replace(conn, rows, source=upload["source"], sample=upload["sample"],
                        valid_from=upload["valid_from"], valid_until=upload["valid_until"],
                        by=principal.publisher_id)
    await audit.record(conn, principal, "boundaries.load", None, {
        "regions": len(rows), "source": upload["source"], "sample": upload["sample"],
        "valid_from": upload["valid_from"] and upload["valid_from"].isoformat()})
    return {"loaded": len(rows), "regions": sorted(codes), "source": upload["source"],
            "sample": upload["sample"]}


async def seed_sample(conn: asyncpg.Connection) -> int:
    """Generated sample boundaries (contoh) for a demo, when no boundary is loaded yet (a start
    never writes over what the walidata loaded)."""
    if await store.any_loaded(conn):
        return 0
    rows = sample.sample_boundaries(await regions.all_regions(conn))
    await store.replace(conn, rows, source=sample.SOURCE, sample=True, valid_from=None,
                        valid_until=None, by="platform")
    return len(rows)


async def children(conn: asyncpg.Connection, parent: str, on) -> dict:
    await regions.region_detail(conn, parent)  # 404 for an unknown region
    found = await store.children(conn, parent, on)
    return {"type": "FeatureCollection", "on": on, "sample": any(b["sample"] for b in found),
            "features": [{"type": "Feature", "geometry": b["geometry"], "properties": {
                "code": b["region_code"], "name": b["name"], "level": b["level"],
                "valid_from": b["valid_from"], "valid_until": b["valid_until"],
                "source": b["source"], "sample": b["sample"]}} for b in found]}
