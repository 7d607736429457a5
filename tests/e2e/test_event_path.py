"""The whole event path through real processes: gateway -> ingest -> registry -> search."""

import pytest

from tests.helpers import eventually

pytestmark = pytest.mark.e2e

DESA = "64.08.04.2001"


async def test_submission_through_gateway_becomes_searchable_master_record(running_platform):
    p = running_platform
    async with p.client() as client:
        body = {"dataset": "jumlah-penduduk",
                "rows": [{"region": DESA, "period": "2024", "jenis_kelamin": "L",
                          "jumlah": 1234},
                         {"region": DESA, "period": "2024", "jenis_kelamin": "P",
                          "jumlah": 1200}]}
        r = await client.post("/v1/submissions", json=body, headers=p.auth("DESA"))
        assert r.status_code == 202, r.text
        submission = r.json()
        status_url = submission["status_url"]

        async def completed():
            s = (await client.get(status_url, headers=p.auth("DESA"))).json()
            return s if s["status"] == "completed" else None

        status = await eventually(completed, timeout=15)
        assert status["counts"]["created"] == 2
        assert status["counts"]["rejected"] == 0

        async def found():
            res = (await client.get("/v1/search", params={"q": "penduduk sangatta utara",
                                                          "kind": "record"})).json()
            return [i for i in res["items"] if i.get("region_code") == DESA
                    and i.get("period") == "2024"] or None

        hits = await eventually(found, timeout=10)
        assert hits

        records = (await client.get("/v1/datasets/jumlah-penduduk/records",
                                    params={"region": DESA, "period": "2024"})).json()
        values = {r["dimensions"]["jenis_kelamin"]: r["values"]["jumlah"]
                  for r in records["items"]}
        assert values == {"L": 1234, "P": 1200}


async def test_submission_without_key_is_refused_in_the_error_shape(running_platform):
    async with running_platform.client() as client:
        r = await client.post("/v1/submissions", json={"dataset": "jumlah-penduduk",
                                                       "rows": []})
    assert r.status_code == 401
    assert r.json()["error"]["code"]
