"""Failure tests on real processes: kill -9 the registry, and the nats-server, mid-flow.

Every row whose submission got a 202 must end up applied exactly once: the tests count master
records and versions in the registry's schema and assert zero lost and zero duplicated.
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.infra import EmbeddedNats
from tests.e2e.harness import start_platform, stop_platform
from tests.helpers import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
ROWS = 10_000
PER_SUBMISSION = 500


def _rows() -> list[dict]:
    with (ROOT / "data" / "wilayah_6408_kutai_timur.csv").open() as f:
        villages = [r["code"] for r in csv.DictReader(f) if r["level"] in ("desa", "kelurahan")]
    rows, year = [], 1900
    while len(rows) < ROWS:
        for code in villages:
            for sex in ("L", "P"):
                rows.append({"region": code, "period": str(year), "jenis_kelamin": sex,
                             "jumlah": year})  # sample (contoh) values
        year += 1
    return rows[:ROWS]


@pytest.fixture
async def own_nats(tmp_path):
    """A nats-server of this test's own, since the test kills it."""
    server = EmbeddedNats(tmp_path / "nats").start()
    yield server
    server.stop()


async def _flow(p, disrupt) -> None:
    rows = _rows()
    batches = [rows[i:i + PER_SUBMISSION] for i in range(0, ROWS, PER_SUBMISSION)]
    accepted: list[str] = []
    headers = p.auth("OPD")
    async with httpx.AsyncClient(base_url=p.gateway, timeout=60) as client:

        async def submit(i, batch):
            for attempt in range(30):  # a real client retries with the same idempotency key
                try:
                    r = await client.post(
                        "/v1/submissions", json={"dataset": "jumlah-penduduk", "rows": batch},
                        headers={**headers, "Idempotency-Key": f"failure-test-{i}"})
                except httpx.HTTPError:
                    await asyncio.sleep(0.2)
                    continue
                if r.status_code in (200, 202):
                    accepted.append(r.json()["id"])
                    return
                assert r.status_code >= 500, r.text
                await asyncio.sleep(0.2)
            raise AssertionError(f"submission {i} never accepted")

        async def feed():
            for i, batch in enumerate(batches):
                await submit(i, batch)
                await asyncio.sleep(0.05)

        feeder = asyncio.create_task(feed())
        await eventually(lambda: asyncio.sleep(0, len(accepted) >= 3), timeout=30)
        await disrupt()
        await feeder
        assert len(set(accepted)) == len(batches)

        async def all_completed():
            for sid in accepted:
                s = (await client.get(f"/v1/submissions/{sid}", headers=headers)).json()
                if s["status"] != "completed":
                    return False
            return True

        await eventually(all_completed, timeout=180, interval=0.5)

    conn = await asyncpg.connect(p.database_url)
    try:
        records = await conn.fetchval("SELECT count(*) FROM registry.records")
        versions = await conn.fetchval("SELECT count(*) FROM registry.record_versions")
        max_version = await conn.fetchval("SELECT max(version) FROM registry.records")
    finally:
        await conn.close()
    assert records == ROWS, f"lost {ROWS - records} rows"
    assert versions == ROWS, f"{versions - ROWS} duplicated versions"
    assert max_version == 1


async def test_registry_killed_mid_flow_applies_every_accepted_row_exactly_once(
        pg_server_url, own_nats):
    p = await start_platform(pg_server_url, own_nats.url, nats_urls=own_nats.service_urls(),
                             extra_env={"REGISTRY_CONSUMER_ACK_WAIT": "3"})
    try:
        async def disrupt():
            p.procs.kill("registry", signal.SIGKILL)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(p.restart, "registry")

        await _flow(p, disrupt)
    finally:
        await stop_platform(p)


async def test_nats_killed_mid_flow_applies_every_accepted_row_exactly_once(
        pg_server_url, own_nats):
    p = await start_platform(pg_server_url, own_nats.url, nats_urls=own_nats.service_urls(),
                             extra_env={"REGISTRY_CONSUMER_ACK_WAIT": "3"})
    try:
        async def disrupt():
            os.killpg(own_nats.process.pid, signal.SIGKILL)
            own_nats.process.wait(5)
            await asyncio.sleep(2.0)  # submissions keep arriving while NATS is down
            await asyncio.to_thread(own_nats.start)  # same port, same JetStream store

        await _flow(p, disrupt)
    finally:
        await stop_platform(p)
