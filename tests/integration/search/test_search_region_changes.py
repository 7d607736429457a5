"""A village retired by a split is still found by its old name, below the regions in force,
with the regions that replaced it (sample data, contoh)."""

from __future__ import annotations

from tests.helpers import eventually
from tests.integration.search.conftest import kutim_regions, query


async def test_a_split_village_is_found_by_its_old_name_with_its_successors(
        search_app, registry_bus):
    regions = kutim_regions()
    kec = next(r for r in regions if r.code == "64.08.03")
    old = next(r for r in regions if r.code == "64.08.03.2001")  # Senambah
    parts = [old.model_copy(update={"code": f"64.08.03.{n}", "name": name, "valid_from":
                                    "2025-01-01", "path_codes": kec.path_codes + [f"64.08.03.{n}"],
                                    "path_names": kec.path_names + [name], "aliases": []})
             for n, name in (("2101", "Senambah Hulu Contoh"), ("2102", "Senambah Hilir Contoh"))]
    retired = old.model_copy(update={
        "valid_until": "2025-01-01", "version": old.version + 1,
        "successor_codes": [p.code for p in parts], "successor_names": [p.name for p in parts]})
    await registry_bus.regions(regions)
    await registry_bus.regions([retired, *parts])
    c = search_app["client"]

    async def found():
        items = (await query(c, q="senambah"))["items"]
        return len([i for i in items if i["kind"] == "region"]) == 3 and items
    items = await eventually(found, timeout=20)
    regions_found = [i for i in items if i["kind"] == "region"]
    assert regions_found[-1]["id"] == "64.08.03.2001"  # the regions in force first
    snippet = regions_found[-1]["snippet"]
    assert "tidak berlaku sejak 2025-01-01" in snippet
    assert "Senambah Hulu Contoh (64.08.03.2101)" in snippet.replace("<mark>", "").replace(
        "</mark>", "")
