"""Region boundaries for the maps, from generated sample polygons (contoh): the walidata loads
a GeoJSON FeatureCollection (codes with or without dots), a region's children are read back
as they held on a day, a boundary from a later date replaces it from then on, and a file with
an unknown code or an open ring stores nothing."""

from __future__ import annotations

from services.registry.boundaries.sample import sample_boundaries
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
KECAMATAN = "64.08.04"


def _collection(rows, **extra) -> dict:
    return {"type": "FeatureCollection", "source": "Poligon contoh untuk uji", "sample": True,
            **extra, "features": [{"type": "Feature", "properties": {"code": code},
                                   "geometry": geometry} for code, geometry in rows]}


async def test_boundaries_load_and_read_back_as_they_held_on_a_day(client, registry):
    pool = registry["pool"]
    regions = [dict(r) for r in await pool.fetch(
        "SELECT code, level, parent_code, valid_until FROM registry.regions")]
    rows = [(c, g) for c, g in sample_boundaries(regions) if c.startswith(KECAMATAN + ".")]
    villages = await pool.fetchval(
        "SELECT count(*) FROM registry.regions WHERE parent_code = $1 AND valid_until IS NULL",
        KECAMATAN)
    assert len(rows) == villages > 3
    compact = [(rows[0][0].replace(".", ""), rows[0][1]), *rows[1:]]  # a code without dots

    async def stored() -> int:
        return await pool.fetchval("SELECT count(*) FROM registry.region_boundaries")

    r = await client.put("/v1/regions/boundaries", json=_collection(compact),
                         headers=principal_headers("disdik", role="publisher"))
    assert r.status_code == 403, r.text
    r = await client.put("/v1/regions/boundaries", json=_collection(
        [*rows[:2], ("64.08.99.9999", rows[0][1])]), headers=STEWARD)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_region", r.text
    assert "64.08.99.9999" in r.json()["error"]["message"]
    open_ring = {"type": "Polygon", "coordinates": [rows[0][1]["coordinates"][0][:-1]]}
    r = await client.put("/v1/regions/boundaries", json=_collection([(rows[0][0], open_ring)]),
                         headers=STEWARD)
    assert r.status_code == 422, r.text
    assert await stored() == 0

    r = await client.put("/v1/regions/boundaries", json=_collection(compact), headers=STEWARD)
    assert r.status_code == 200 and r.json()["loaded"] == villages, r.text
    assert rows[0][0] in r.json()["regions"]
    moved = {"type": "Polygon", "coordinates": [[[116.0, 0.2], [116.1, 0.2], [116.1, 0.3],
                                                 [116.0, 0.3], [116.0, 0.2]]]}
    r = await client.put("/v1/regions/boundaries", headers=STEWARD, json=_collection(
        [(rows[0][0], moved)], valid_from="2025-01-01"))
    assert r.status_code == 200, r.text

    before = (await client.get("/v1/regions/boundaries", params={
        "parent": KECAMATAN, "on": "2024-12-31"})).json()
    after = (await client.get("/v1/regions/boundaries", params={
        "parent": KECAMATAN, "on": "2025-06-30"})).json()
    assert len(before["features"]) == len(after["features"]) == villages and before["sample"]
    first = {f["properties"]["code"]: f for f in before["features"]}[rows[0][0]]
    assert first["geometry"] == rows[0][1] and first["properties"]["name"]
    assert {f["properties"]["code"]: f for f in after["features"]}[rows[0][0]][
        "geometry"] == moved
    assert await pool.fetchval(
        "SELECT bool_and(hash = encode(sha256(convert_to(geometry::text, 'UTF8')), 'hex')) "
        "FROM registry.region_boundaries") is True
    assert (await client.get("/v1/regions/boundaries", params={"parent": "99.99"})
            ).status_code == 404
