"""SIPD e-Walidata push against a real HTTP server standing in for SIPD (it answers as SIPD
does: accepted, refused with a message, or down): a complete, verified year is pushed once,
a corrected value again, an incomplete year waits and says for what, a refusal keeps SIPD's
message, an outage is retried. Sample values (contoh) only."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.registry.bootstrap.seed import seed_sample_values
from services.registry.publishing import apply
from services.registry.sipd import service as sipd
from tests.helpers import served
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
TOKEN = "rahasia-sipd-uji"


@pytest.fixture
async def fake_sipd():
    app = FastAPI()
    app.state.seen, app.state.mode = [], "ok"

    @app.post("/api/push_dssd")
    async def push(request: Request):
        app.state.seen.append({"auth": request.headers.get("authorization"),
                               "key": request.query_params.get("key"),
                               "body": await request.json()})
        if app.state.mode == "down":
            return JSONResponse({"message": "maintenance"}, status_code=503)
        if app.state.mode == "refuse":
            return {"status": False, "message": "kodeindikator tidak terdaftar"}
        return {"status": True, "message": "berhasil"}

    async with served(app) as url:
        yield app, url + "/api"


async def _deliver(pool, url, auth="bearer"):
    settings = sipd.SipdSettings(sipd_url=url, sipd_token=TOKEN, sipd_auth=auth)
    return await sipd.deliver(pool, settings)


async def _scan(client) -> int:
    r = await client.post("/v1/sipd/run", headers=STEWARD)
    assert r.status_code == 200, r.text
    return r.json()["queued"]


async def _state(client, year: str) -> dict:
    items = (await client.get("/v1/sipd/status", headers=STEWARD)).json()["items"]
    return next(i for i in items if i["tahun"] == year)


async def test_a_complete_verified_year_is_pushed_once_and_a_correction_again(
        client, registry, fake_sipd):
    app, url = fake_sipd
    pool = registry["pool"]
    r = await client.post("/v1/sipd/indicators", headers=STEWARD, json={
        "kodeindikator": "1.01.01", "dataset": "jumlah-penduduk", "measure": "jumlah"})
    assert r.status_code == 201, r.text
    dup = await client.post("/v1/sipd/indicators", headers=STEWARD, json={
        "kodeindikator": "1.01.01", "dataset": "jumlah-penduduk", "measure": "jumlah"})
    assert (dup.status_code, dup.json()["error"]["code"]) == (409, "indicator_exists")
    async with pool.acquire() as conn, conn.transaction():
        await seed_sample_values(conn, "2023")  # every village: complete
        total = await conn.fetchval("SELECT sum((vals->>'jumlah')::int) FROM registry.records")
        await apply.apply_rows(conn, dataset_slug="jumlah-penduduk", publisher_id="disdukcapil",
                               rows=[{"region": "64.08.04.2001", "period": "2024",
                                      "jenis_kelamin": "L", "jumlah": 10}])  # 1 of 141

    assert await _scan(client) == 1
    assert await _scan(client) == 0  # queued once
    waiting = await _state(client, "2024")
    assert waiting["state"] == "menunggu" and "140 dari 141" in waiting["waiting_for"][0]
    assert await _deliver(pool, url) == 1
    [first] = app.state.seen
    assert first["auth"] == f"Bearer {TOKEN}"
    assert first["body"] == {"data": [{"kodeindikator": "1.01.01", "kodepemda": "6408",
                                       "tahun": "2023", "data": total}]}
    sent = await _state(client, "2023")
    assert (sent["state"], sent["response"]) == ("terkirim", '{"status":true,"message":"berhasil"}')
    assert await _scan(client) == 0 and await _deliver(pool, url) == 0  # never twice

    # the OPD corrects one village: the new total goes again
    async with pool.acquire() as conn, conn.transaction():
        old = await conn.fetchval(
            "SELECT (vals->>'jumlah')::int FROM registry.records WHERE period = '2023' "
            "AND region_code = '64.08.04.2001' AND dims->>'jenis_kelamin' = 'L'")
        await apply.apply_rows(conn, dataset_slug="jumlah-penduduk", publisher_id="disdukcapil",
                               rows=[{"region": "64.08.04.2001", "period": "2023",
                                      "jenis_kelamin": "L", "jumlah": old + 5}])
    assert await _scan(client) == 1
    assert await _deliver(pool, url, auth="query") == 1
    assert app.state.seen[-1]["key"] == TOKEN and app.state.seen[-1]["auth"] is None
    assert app.state.seen[-1]["body"]["data"][0]["data"] == total + 5


async def test_a_refusal_keeps_sipds_message_and_an_outage_is_retried(
        client, registry, fake_sipd):
    app, url = fake_sipd
    pool = registry["pool"]
    await client.post("/v1/sipd/indicators", headers=STEWARD, json={
        "kodeindikator": "9.99", "dataset": "jumlah-penduduk", "measure": "jumlah",
        "dimensions": {"jenis_kelamin": "P"}})
    async with pool.acquire() as conn, conn.transaction():
        await seed_sample_values(conn, "2023")
    assert await _scan(client) == 1
    app.state.mode = "down"
    assert await _deliver(pool, url) == 0
    retried = await _state(client, "2023")
    assert (retried["state"], retried["attempts"]) == ("mengirim", 1)
    await pool.execute("UPDATE registry.sipd_pushes SET next_attempt_at = now()")  # backoff over
    app.state.mode = "refuse"
    assert await _deliver(pool, url) == 0
    refused = await _state(client, "2023")
    assert refused["state"] == "ditolak" and refused["response"] == "kodeindikator tidak terdaftar"
    assert len(app.state.seen) == 2
    metrics = (await client.get("/metrics")).text  # the push state, read at the scrape
    assert 'satudata_connector_pushes{connector="sipd",state="refused"} 1.0' in metrics
    assert 'satudata_connector_pushes{connector="sipd",state="pending"} 0.0' in metrics
    monthly = await client.post("/v1/sipd/indicators", headers=STEWARD, json={
        "kodeindikator": "9.98", "dataset": "tidak-ada", "measure": "jumlah"})
    assert monthly.status_code == 404


async def test_an_outage_longer_than_the_retry_budget_ends_failed_and_sends_no_more(
        client, registry, fake_sipd):
    """SIPD away for every attempt of the budget (here 3, backoff skipped): the push ends
    'gagal' after exactly 3 calls, and later rounds call SIPD no more."""
    app, url = fake_sipd
    pool = registry["pool"]
    await client.post("/v1/sipd/indicators", headers=STEWARD, json={
        "kodeindikator": "1.02", "dataset": "jumlah-penduduk", "measure": "jumlah"})
    async with pool.acquire() as conn, conn.transaction():
        await seed_sample_values(conn, "2023")
    assert await _scan(client) == 1
    app.state.mode = "down"
    settings = sipd.SipdSettings(sipd_url=url, sipd_token=TOKEN, sipd_max_attempts=3)
    for _ in range(5):
        await pool.execute("UPDATE registry.sipd_pushes SET next_attempt_at = now()")
        assert await sipd.deliver(pool, settings) == 0
    state = await _state(client, "2023")
    assert (state["state"], state["attempts"]) == ("gagal", 3)
    assert len(app.state.seen) == 3
    assert await pool.fetchval("SELECT count(*) FROM registry.sipd_pushes") == 1
