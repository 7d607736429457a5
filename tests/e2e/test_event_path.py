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


async def test_disagreement_becomes_a_conflict_the_walidata_settles_through_the_gateway(
        running_platform):
    p = running_platform
    row = {"region": DESA, "period": "2021", "jenis_kelamin": "P"}
    async with p.client() as client:

        async def submit(who, value):
            r = await client.post("/v1/submissions", headers=p.auth(who), json={
                "dataset": "jumlah-penduduk", "rows": [{**row, "jumlah": value}]})
            assert r.status_code == 202, r.text

            async def done():
                s = (await client.get(r.json()["status_url"], headers=p.auth(who))).json()
                return s if s["status"] == "completed" else None

            return await eventually(done, timeout=15)

        assert (await submit("OPD", 500))["counts"]["created"] == 1
        assert (await submit("DESA", 555))["counts"]["conflicts"] == 1

        listed = await client.get("/v1/conflicts", params={"status": "open"},
                                  headers=p.auth("WALIDATA"))
        assert listed.status_code == 200, listed.text
        conflict = next(c for c in listed.json()["items"] if c["period"] == "2021")

        refused = await client.post(f"/v1/conflicts/{conflict['id']}/accept",
                                    headers=p.auth("DESA"))
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "steward_only"

        accepted = await client.post(f"/v1/conflicts/{conflict['id']}/accept",
                                     headers=p.auth("WALIDATA"), json={})
        assert accepted.status_code == 200, accepted.text

        records = (await client.get("/v1/datasets/jumlah-penduduk/records", params={
            "region": DESA, "period": "2021", "jenis_kelamin": "P"})).json()["items"]
        assert [(r["values"]["jumlah"], r["version"]) for r in records] == [(555, 2)]
        history = (await client.get(f"/v1/records/{records[0]['id']}")).json()["history"]
        assert [h["values"]["jumlah"] for h in history] == [500, 555]


async def test_revoked_key_stops_working_within_seconds(running_platform):
    p = running_platform
    async with p.client() as client:
        created = await client.post("/v1/keys", headers=p.auth("WALIDATA"), json={
            "publisher_id": "disdukcapil", "role": "publisher", "label": "e2e"})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        headers = {"Authorization": f"Bearer {key}"}
        body = {"dataset": "jumlah-penduduk", "rows": [
            {"region": DESA, "period": "2019", "jenis_kelamin": "L", "jumlah": 1}]}
        assert (await client.post("/v1/submissions", json=body, headers=headers)).status_code \
            == 202
        revoked = await client.post(f"/v1/keys/{created.json()['id']}/revoke",
                                    headers=p.auth("WALIDATA"))
        assert revoked.status_code == 200, revoked.text

        async def refused():
            r = await client.post("/v1/submissions", json=body, headers=headers)
            return r.status_code == 401

        await eventually(refused, timeout=10, interval=0.5)
