"""A misspelt query parameter is refused with a 422 naming it and what the route takes, in
every service behind the gateway; a route that filters by dimensions takes the dataset's
dimension names and refuses anything else the same way."""

from __future__ import annotations

import httpx
import pytest

SLUG = "jumlah-penduduk"


@pytest.fixture
def stack_options() -> dict:
    return {"sample_values": False, "search": True}  # search answers behind the gateway


@pytest.mark.parametrize("path, params, accepted", [
    ("/v1/search", {"q": "penduduk", "periode": "2024"}, "period_from"),       # search
    ("/v1/regions", {"tree": "true", "level": "desa"}, "tree"),                  # registry
    ("/v1/completeness", {"dataset": SLUG, "period": "2024", "kec": "x"}, "region"),
])
async def test_an_unknown_parameter_is_a_clear_422(stack, path, params, accepted):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        r = await client.get(path, params=params)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    unknown = (set(params) - {"q", "tree", "dataset", "period"}).pop()
    assert error["code"] == "unknown_parameter" and unknown in error["message"]
    assert accepted in error["message"] and error["details"][0]["field"] == unknown


async def test_dimension_filters_take_dimensions_and_refuse_the_rest(stack):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        ok = await client.get(f"/v1/datasets/{SLUG}/records",
                              params={"jenis_kelamin": "P", "limit": 5})
        agg = await client.get("/v1/aggregates", params={"dataset": SLUG, "jenis_kelamin": "P"})
        bad = await client.get(f"/v1/datasets/{SLUG}/records", params={"periode": "2024"})
        bad_agg = await client.get("/v1/aggregates", params={"dataset": SLUG, "sex": "P"})
    assert ok.status_code == 200 and agg.status_code == 200
    for r, name in ((bad, "periode"), (bad_agg, "sex")):
        error = r.json()["error"]
        assert (r.status_code, error["code"]) == (422, "unknown_parameter")
        assert name in error["message"] and "jenis_kelamin" in error["message"]
