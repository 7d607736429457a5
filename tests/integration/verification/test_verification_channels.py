"""Under the ``verifikasi`` policy a new value is held; the public keeps seeing the
last verified value, marked "sedang diverifikasi", in records, search, the CSV export, CKAN's
datastore_search and the change feed; bulk verification of the kecamatan publishes the new
value everywhere and the mark goes. Real registry, search and gateway over real PostgreSQL
and NATS (the ``stack`` fixture of tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
import csv
import io

import ckanapi
import httpx

from services.registry.publishing import apply as registry_service
from tests.helpers import eventually

SLUG = "jumlah-penduduk"
KEC = "64.08.04"
DESA = "64.08.04.2001"
MARK = "sedang_diverifikasi"


async def _send(pool, jumlah: int) -> None:
    rows = [{"region": DESA, "period": "2025", "jenis_kelamin": "L", "jumlah": jumlah}]
    async with pool.acquire() as conn, conn.transaction():
        await registry_service.apply_rows(conn, dataset_slug=SLUG, publisher_id="disdukcapil",
                                          rows=rows)


async def _channels(client) -> dict:
    """The record as each public channel shows it: (jumlah, mark)."""
    [record] = (await client.get(f"/v1/datasets/{SLUG}/records",
                                 params={"region": DESA, "period": "2025"})).json()["items"]
    out = {"records": (record["values"]["jumlah"], record["verification_status"])}
    csv_text = (await client.get(f"/v1/datasets/{SLUG}/records",
                                 params={"format": "csv", "period": "2025"})).text
    [row] = [r for r in csv.DictReader(io.StringIO(csv_text)) if r["kode_wilayah"] == DESA]
    out["csv"] = (int(row["jumlah"]), row["status_verifikasi"])
    ckan = ckanapi.RemoteCKAN(str(client.base_url))
    found = await asyncio.to_thread(ckan.action.datastore_search, resource_id=SLUG,
                                    filters={"region_code": DESA})
    [mine] = found["records"]
    assert "status_verifikasi" in [f["id"] for f in found["fields"]]
    out["ckan"] = (mine["jumlah"], mine["status_verifikasi"])
    feed = (await client.get("/v1/changes", params={"since": 0})).json()["items"]
    last = [x for x in feed if x["record_id"] == record["id"] and x["change"] == "version"][-1]
    out["changes"] = (last["values"]["jumlah"], last["verification_status"])
    return out


async def _search(client, expected: tuple) -> tuple:
    async def hit():
        r = await client.get("/v1/search", params={"q": "sangatta utara", "kind": "record"})
        assert r.status_code == 200, r.text  # polled through the gateway: a 429 waits too
        body = r.json()
        found = [(i["values"]["jumlah"], i["verification_status"]) for i in body["items"]
                 if i["region_code"] == DESA]
        assert found == [expected], body
        return expected
    return await eventually(hit, timeout=30, interval=0.25)


async def test_a_held_value_is_marked_everywhere_until_the_kecamatan_is_verified(stack):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        await _send(stack["pool"], 100)  # published under the default policy, langsung
        await _search(client, (100, "terverifikasi"))
        r = await client.put(f"/v1/datasets/{SLUG}/verification-policy",
                             headers=stack["walidata"], json={"policy": "verifikasi"})
        assert r.status_code == 200, r.text
        await _send(stack["pool"], 120)  # held: the public keeps 100, marked

        assert await _channels(client) == {
            "records": (100, MARK), "csv": (100, "sedang diverifikasi"),
            "ckan": (100, "sedang diverifikasi"), "changes": (100, MARK)}
        await _search(client, (100, MARK))

        r = await client.post("/v1/verification/verify", headers=stack["walidata"], json={
            "dataset": SLUG, "period": "2025", "kecamatan": KEC, "note": "cek lapangan"})
        assert r.status_code == 200, r.text
        assert r.json()["decided"] == 1

        assert await _channels(client) == {
            "records": (120, "terverifikasi"), "csv": (120, ""), "ckan": (120, ""),
            "changes": (120, "terverifikasi")}
        await _search(client, (120, "terverifikasi"))


async def test_a_returned_value_never_shows_and_the_mark_goes(stack):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        await _send(stack["pool"], 100)
        r = await client.put(f"/v1/datasets/{SLUG}/verification-policy",
                             headers=stack["walidata"], json={"policy": "verifikasi"})
        assert r.status_code == 200, r.text
        await _send(stack["pool"], 900)
        await _search(client, (100, MARK))
        [held] = (await client.get("/v1/verification",
                                   headers=stack["walidata"])).json()["items"]
        r = await client.post(f"/v1/verification/{held['id']}/return",
                              headers=stack["walidata"], json={"note": "angka keliru"})
        assert r.status_code == 200, r.text
        assert (await _channels(client))["records"] == (100, "terverifikasi")
        await _search(client, (100, "terverifikasi"))


async def test_a_rebuilt_index_carries_the_mark_as_the_live_one(stack, index_rebuild):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        await _send(stack["pool"], 100)
        r = await client.put(f"/v1/datasets/{SLUG}/verification-policy",
                             headers=stack["walidata"], json={"policy": "verifikasi"})
        assert r.status_code == 200, r.text
        await _send(stack["pool"], 120)
        await _search(client, (100, MARK))
    rebuilt = await index_rebuild.documents(stack["registry_url"])
    assert MARK in [d["verification_status"] for d in rebuilt]
    await eventually(lambda: index_rebuild.live_equals(rebuilt), timeout=15)
