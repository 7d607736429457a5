"""Issue 14: under the ``verifikasi`` policy a new value is held; the public keeps seeing the
last verified value, marked "sedang diverifikasi", in records, search, the CSV export, CKAN's
datastore_search and the change feed; bulk verification of the kecamatan publishes the new
value everywhere and the mark goes. Real registry, search and gateway over real PostgreSQL
and NATS."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid

import asyncpg
import ckanapi
import httpx
import pytest

from services.gateway.app import create_app as create_gateway
from services.registry import seed as registry_seed
from services.registry.app import create_app as create_registry
from services.registry.records import apply as registry_service
from satudata.reindex import reindex
from services.registry.settings import RegistrySettings
from services.search import store as search_store
from services.search.app import create_app as create_search
from shared.db import create_pool
from tests.conftest import migrate
from tests.helpers import eventually
from tests.integration.gateway.conftest import gateway_settings, serve
from tests.integration.search.conftest import search_db, search_settings  # noqa: F401

SLUG = "jumlah-penduduk"
KEC = "64.08.04"
DESA = "64.08.04.2001"
MARK = "sedang_diverifikasi"


@pytest.fixture
async def stack(database_url, nats_url, nats_namespace, search_db, search_settings):  # noqa: F811
    await migrate("registry", database_url)
    pool = await create_pool(database_url, "registry")
    summary = await registry_seed.seed(pool, sample_values=False)
    registry = create_registry(RegistrySettings(database_url=database_url, nats_url=nats_url,
                                                nats_namespace=nats_namespace))
    async with serve(registry) as registry_url, serve(create_search(search_settings)) as s_url:
        settings = gateway_settings(registry_url, nats_url, nats_namespace,
                                    upstream_timeout=10.0, key_cache_ttl=0.5)
        settings.search_url = s_url
        async with serve(create_gateway(settings)) as url:
            keys = summary["keys"]
            yield {"url": url, "pool": pool, "registry_url": registry_url,
                   "walidata": {"Authorization": f"Bearer {keys['SATUDATA_KEY_WALIDATA']}"}}
    await pool.close()


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
    last = [x for x in feed if x["record_id"] == record["id"]][-1]
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


async def _rebuilt(registry_url: str, pg_server_url: str) -> list[dict]:
    """The documents `satudata reindex` builds from the registry's snapshot."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    base = pg_server_url.rpartition("/")[0]
    admin = await asyncpg.connect(f"{base}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(reindex, registry_url=registry_url,
                                database_url=f"{base}/{name}", page=100)
        pool = await create_pool(f"{base}/{name}", "search")
        try:
            async with pool.acquire() as conn:
                return await search_store.documents_fingerprint(conn)
        finally:
            await pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_a_rebuilt_index_carries_the_mark_as_the_live_one(stack, search_db,  # noqa: F811
                                                                  pg_server_url):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        await _send(stack["pool"], 100)
        r = await client.put(f"/v1/datasets/{SLUG}/verification-policy",
                             headers=stack["walidata"], json={"policy": "verifikasi"})
        assert r.status_code == 200, r.text
        await _send(stack["pool"], 120)
        await _search(client, (100, MARK))
    rebuilt = await _rebuilt(stack["registry_url"], pg_server_url)
    assert MARK in [d["verification_status"] for d in rebuilt]

    async def same_as_rebuilt():
        async with search_db.acquire() as conn:
            live = await search_store.documents_fingerprint(conn)
        assert live == rebuilt
        return True
    await eventually(same_as_rebuilt, timeout=15)
