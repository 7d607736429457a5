"""CKAN clients push with datastore_upsert / datastore_create: the real ckanapi client."""

from __future__ import annotations

import asyncio

import ckanapi
import pytest
import requests

from tests.integration.ingest.conftest import DESA, auth, principal, rows
from tests.helpers import SignedRequests, served, signed
from services.ingest.app import create_app


def remote(url: str, p=None, v3: bool = False) -> ckanapi.RemoteCKAN:
    # The gateway turns CKAN's `Authorization: <key>` into the principal header; here the
    # session carries the principal directly, as the gateway would.
    session = requests.Session()
    session.headers.update(auth(p or principal()))
    session.auth = SignedRequests()
    ckan = ckanapi.RemoteCKAN(url, apikey="kunci-ckan", session=session)
    if v3:
        ckan.base_url = "api/3/action/"
    return ckan


@pytest.fixture
async def ckan_url(ingest_settings):
    settings = ingest_settings.model_copy(update={
        "ckan_resource_map": {"9a1f3c2e-penduduk": "jumlah-penduduk"}})
    async with served(create_app(settings)) as url:
        yield url


async def test_ckanapi_datastore_upsert_becomes_a_submission(ckan_url, ingest_db):
    records = [{"Region": DESA, "Period": "2024", "Jenis Kelamin": "L", "Jumlah": 1234},
               {"Region": DESA, "Period": "2024", "Jenis Kelamin": "P", "Jumlah": 1300}]
    result = await asyncio.to_thread(
        lambda: remote(ckan_url).action.datastore_upsert(
            resource_id="9a1f3c2e-penduduk", records=records, method="upsert", force=True))
    assert result["resource_id"] == "9a1f3c2e-penduduk" and result["method"] == "upsert"
    assert result["records_count"] == 2 and result["dataset"] == "jumlah-penduduk"
    stored = await ingest_db.fetch(
        "SELECT row FROM submission_rows WHERE submission_id = $1::uuid ORDER BY idx",
        result["submission_id"])
    assert stored[0]["row"] == {"region": DESA, "period": "2024", "jenis_kelamin": "L",
                                "jumlah": 1234}
    assert await ingest_db.fetchval("SELECT source FROM submissions") == "ckan"
    metrics = (await asyncio.to_thread(requests.get, f"{ckan_url}/metrics")).text
    assert 'satudata_connector_events_total{connector="ckan",outcome="received"} 1.0' in metrics
    assert 'satudata_connector_events_total{connector="ckan",outcome="rows"} 2.0' in metrics


async def test_ckanapi_datastore_create_on_versioned_path_with_slug_as_resource_id(ckan_url):
    result = await asyncio.to_thread(
        lambda: remote(ckan_url, v3=True).action.datastore_create(
            resource_id="jumlah-penduduk", fields=[{"id": "region", "type": "text"}],
            records=rows(3), primary_key=["region", "period", "jenis_kelamin"]))
    assert result["records_count"] == 3 and result["submission_id"]


async def test_ckan_errors_take_ckans_shape(ckan_url):
    with pytest.raises(ckanapi.NotFound):
        await asyncio.to_thread(lambda: remote(ckan_url).action.datastore_upsert(
            resource_id="tidak-ada", records=rows(1)))
    with pytest.raises(ckanapi.NotAuthorized):
        await asyncio.to_thread(lambda: remote(ckan_url, principal(datasets=["lain"])
                                               ).action.datastore_upsert(
            resource_id="jumlah-penduduk", records=rows(1)))
    with pytest.raises(ckanapi.ValidationError) as caught:
        await asyncio.to_thread(lambda: remote(ckan_url).action.datastore_upsert(
            resource_id="jumlah-penduduk", records=["bukan objek"]))
    assert caught.value.error_dict["__type"] == "Validation Error"


async def test_ckan_error_status_and_body(ckan_url):
    import httpx

    async with httpx.AsyncClient(base_url=ckan_url, auth=signed()) as client:
        response = await client.post("/api/3/action/datastore_upsert",
                                     json={"records": rows(1)}, headers=auth())
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False and body["error"]["__type"] == "Validation Error"
    assert "help" in body


async def test_ckan_dry_run_and_definition_only_create_store_nothing(ckan_url, ingest_db):
    ckan = remote(ckan_url)
    checked = await asyncio.to_thread(lambda: ckan.action.datastore_upsert(
        resource_id="jumlah-penduduk", records=rows(2), dry_run=True))
    defined = await asyncio.to_thread(lambda: ckan.action.datastore_create(
        resource_id="9a1f3c2e-penduduk", fields=[{"id": "jumlah", "type": "int"}]))
    assert checked["dry_run"] is True and checked["counts"]["created"] == 2
    assert defined["records_count"] == 0 and defined["submission_id"] is None
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 0


async def test_upsert_with_an_invalid_row_is_refused_whole_naming_the_row(ckan_url, ingest_db):
    records = rows(3)
    records[1]["jumlah"] = "banyak"
    with pytest.raises(ckanapi.ValidationError) as caught:
        await asyncio.to_thread(lambda: remote(ckan_url).action.datastore_upsert(
            resource_id="jumlah-penduduk", records=records))
    error = caught.value.error_dict
    assert error["code"] == "rows_rejected" and "1 dari 3 baris" in error["message"]
    assert {d["index"] for d in error["details"]} == {1}
    assert error["details"][0]["field"] == "jumlah"
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 0
    # the door's counters: one call refused, nothing received
    metrics = (await asyncio.to_thread(requests.get, f"{ckan_url}/metrics")).text
    assert 'satudata_connector_events_total{connector="ckan",outcome="refused"} 1.0' in metrics
    assert 'connector="ckan",outcome="received"' not in metrics
