"""Timeliness through the gateway, with the clock after the 2026 due date: the portal page
lists the villages that have not sent as late (with a chart), dataset answers and CKAN packages
say how late the data is, and a publisher reads its own overdue list with its key."""

from __future__ import annotations

import asyncio

import ckanapi
import httpx
import pytest

from services.gateway.app import create_app
from services.registry.bootstrap import seed as registry_seed
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from shared.db import create_pool
from tests.conftest import migrate
from tests.integration.gateway.conftest import gateway_settings, serve

SLUG = "jumlah-penduduk"


@pytest.fixture
async def late_stack(monkeypatch, database_url, nats_url, nats_namespace):
    monkeypatch.setenv("SATUDATA_TESTING", "1")
    monkeypatch.setenv("SATUDATA_NOW", "2027-04-15T10:00")  # 2026 was due 2027-03-31
    monkeypatch.setenv("REGISTRY_REMINDER_INTERVAL", "0")
    await migrate("registry", database_url)
    pool = await create_pool(database_url, "registry")
    summary = await registry_seed.seed(pool)  # sample (contoh) values for 2023 only
    registry = create_registry(RegistrySettings(database_url=database_url, nats_url=nats_url,
                                                nats_namespace=nats_namespace))
    async with serve(registry) as registry_url:
        settings = gateway_settings(registry_url, nats_url, nats_namespace,
                                    upstream_timeout=10.0)
        async with serve(create_app(settings)) as url:
            yield {"url": url, "keys": summary["keys"]}
    await pool.close()


async def test_portal_page_lists_villages_without_a_submission_as_late(late_stack):
    async with httpx.AsyncClient(base_url=late_stack["url"], timeout=30) as client:
        r = await client.get("/ketepatan", params={"dataset": SLUG, "period": "2026"})
        assert r.status_code == 200, r.text
        page = r.text
        assert "<svg" in page and "Status pelaporan per kecamatan" in page
        assert "Terlambat, belum dikirim" in page and "Sangatta Utara" in page
        assert "64.08.04.2001" in page and "15 hari" in page
        assert "141 laporan terlambat belum dikirim" in page
        bad = await client.get("/ketepatan", params={"dataset": SLUG, "period": "20xx"})
        assert bad.status_code == 422 and "Pilihan tidak dikenali" in bad.text
        api = (await client.get("/v1/timeliness", params={"dataset": SLUG})).json()
        assert [i["period"] for i in api["items"]] == ["2026", "2027"]
        assert api["items"][0]["missing"] == 141


async def test_dataset_answer_and_ckan_package_say_how_late(late_stack):
    async with httpx.AsyncClient(base_url=late_stack["url"], timeout=30) as client:
        d = (await client.get(f"/v1/datasets/{SLUG}")).json()
        assert d["currency"]["status"] == "terlambat"
        assert d["currency"]["label"].startswith("terlambat ") and d["last_updated"]
        assert d["currency"]["latest_period"] == "2023"
    ckan = ckanapi.RemoteCKAN(late_stack["url"])
    package = await asyncio.to_thread(ckan.action.package_show, id=SLUG)  # ckanapi blocks
    assert package["currency"] == d["currency"]["label"] and package["is_current"] is False


async def test_publisher_reads_its_own_overdue_list_and_template_with_its_key(late_stack):
    desa = {"Authorization": f"Bearer {late_stack['keys']['SATUDATA_KEY_DESA']}"}
    async with httpx.AsyncClient(base_url=late_stack["url"], timeout=30) as client:
        mine = await client.get("/v1/timeliness/mine", headers=desa)
        assert mine.status_code == 200, mine.text
        items = mine.json()["items"]
        assert [(i["period"], [u["code"] for u in i["regions"]]) for i in items] == [
            ("2026", ["64.08.04.2001"])]
        assert (await client.get("/v1/timeliness/mine")).status_code == 401
        t = await client.get(f"/v1/datasets/{SLUG}/template", params={"format": "csv"},
                             headers=desa)
        assert t.status_code == 200, t.text
        assert t.text.splitlines() == ["kode_wilayah,nama_wilayah,periode,jenis_kelamin,jumlah",
                                       "64.08.04.2001,Sangatta Utara,2026,L,",
                                       "64.08.04.2001,Sangatta Utara,2026,P,"]
        log = await client.get("/v1/reminders", headers=desa)
        assert log.status_code == 200 and log.json() == {"items": [], "next_cursor": None}
