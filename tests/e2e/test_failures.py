"""Failure tests on real processes: PostgreSQL killed and away for 60 s, kill -9 of registry, search
and ingest, and of the nats-server, each in the middle of 10,000 rows.

Every row whose submission got a 202 must end up applied exactly once: the tests count master
records and versions in the registry's schema and assert zero lost and zero duplicated, every
submission final, and search's index equal to the registry's records.
"""

from __future__ import annotations

import asyncio
import csv
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.infra import EmbeddedNats, EmbeddedPostgres
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
                # sample (contoh) values, steady from year to year: whatever order the
                # faults deliver the years in, none is an outlier the walidata must verify
                rows.append({"region": code, "period": str(year), "jenis_kelamin": sex,
                             "jumlah": 1000 + year % 5})
        year += 1
    return rows[:ROWS]


def _own_dir(kind: str) -> Path:
    # not pytest's tmp_path: other pytest sessions on this machine prune /tmp/pytest-of-<user>
    return Path(tempfile.mkdtemp(prefix=f"satudata-e2e-{kind}-"))


@pytest.fixture
async def own_nats():
    """A nats-server of this test's own, since the test kills it."""
    folder = _own_dir("nats")
    server = EmbeddedNats(folder / "nats").start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


async def _flow(p, disrupt) -> None:
    rows = _rows()
    batches = [rows[i:i + PER_SUBMISSION] for i in range(0, ROWS, PER_SUBMISSION)]
    accepted: list[str] = []
    headers = p.auth("OPD")
    async with httpx.AsyncClient(base_url=p.gateway, timeout=60) as client:

        async def submit(i, batch):
            # a real client retries with the same idempotency key, for longer than any outage
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                try:
                    r = await client.post(
                        "/v1/submissions", json={"dataset": "jumlah-penduduk", "rows": batch},
                        headers={**headers, "Idempotency-Key": f"failure-test-{i}"})
                except httpx.HTTPError:
                    await asyncio.sleep(0.5)
                    continue
                if r.status_code in (200, 202):
                    accepted.append(r.json()["id"])
                    return
                # a dependency away is a 503/502/504, never a 500 nor a 4xx
                assert r.status_code in (502, 503, 504), r.text
                await asyncio.sleep(0.5)
            raise AssertionError(f"submission {i} never accepted")

        async def feed():
            for i, batch in enumerate(batches):
                await submit(i, batch)
                await asyncio.sleep(0.05)

        feeder = asyncio.create_task(feed())
        await eventually(lambda: asyncio.sleep(0, len(accepted) >= 3), timeout=60)
        await disrupt()
        await feeder
        assert len(set(accepted)) == len(batches)

        async def all_final():
            for sid in accepted:
                r = await client.get(f"/v1/submissions/{sid}", headers=headers)
                if r.status_code != 200 or r.json()["status"] != "completed":
                    return False
            return True

        await eventually(all_final, timeout=240, interval=0.5)
        outcomes = {}
        for sid in accepted:  # what ingest heard of each row, to name a loss if there is one
            counts = (await client.get(f"/v1/submissions/{sid}", headers=headers)).json()
            for name, n in counts["counts"].items():
                outcomes[name] = outcomes.get(name, 0) + n

    conn = await asyncpg.connect(p.database_url)
    try:
        records = await conn.fetchval("SELECT count(*) FROM registry.records")
        versions = await conn.fetchval("SELECT count(*) FROM registry.record_versions")
        max_version = await conn.fetchval("SELECT max(version) FROM registry.records")
        assert records == ROWS, f"lost {ROWS - records} rows; submissions said {outcomes}"
        assert versions == ROWS, f"{versions - ROWS} duplicated versions"
        assert max_version == 1

        async def search_equals_registry():
            missing = await conn.fetchval("""
                SELECT count(*) FROM registry.records r
                WHERE r.status = 'current' AND NOT EXISTS (
                    SELECT 1 FROM search.documents d
                    WHERE d.doc_id = 'record:' || r.id AND d.version = r.version)""")
            extra = await conn.fetchval(
                "SELECT count(*) FROM search.documents WHERE kind = 'record'") - records
            assert (missing, extra) == (0, 0), f"search: {missing} missing, {extra} extra"
            return True

        await eventually(search_equals_registry, timeout=120, interval=1.0)
        dead = await conn.fetchval(
            "SELECT count(*) FROM ingest.submission_chunks WHERE failed_at IS NOT NULL")
        assert dead == 0
    finally:
        await conn.close()


async def _search_progress(p) -> int:
    conn = await asyncpg.connect(p.database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM search.documents WHERE kind = 'record'")
    finally:
        await conn.close()


@pytest.fixture
async def own_postgres():
    """A PostgreSQL server of this test's own, since the test stops it."""
    folder = _own_dir("pg")
    server = await asyncio.to_thread(EmbeddedPostgres(folder / "pg").start)
    yield server
    await asyncio.to_thread(server.stop)
    shutil.rmtree(folder, ignore_errors=True)


READS = ["/v1/datasets", "/v1/datasets/jumlah-penduduk/records", "/v1/regions/64.08.04.2001",
         "/v1/search?q=penduduk", "/v1/changes", "/api/3/action/package_list",
         "/v1/aggregates?dataset=jumlah-penduduk&period=2015&measure=jumlah"]


async def _start_again(server: EmbeddedPostgres) -> None:
    """The same server on its port and data; a killed postmaster's backends may hold its
    shared memory a moment longer, so a refused start is tried again."""
    for _ in range(60):
        try:
            await asyncio.to_thread(server.start)
            return
        except (OSError, subprocess.SubprocessError):
            await asyncio.sleep(1.0)
    raise AssertionError("PostgreSQL did not start again")


async def test_postgres_killed_60s_mid_flow_applies_every_row_once_and_answers_503_not_500(
        own_postgres, nats_url, nats_service_urls):
    """PostgreSQL killed (-9) and away for 60 s while 10,000 rows are in flight and readers
    read: every accepted row applied once, every answer meanwhile a 503 naming the database
    (no service logs a 500, the gateway's log names the database, never the secret)."""
    p = await start_platform(own_postgres.url, nats_url, nats_urls=nats_service_urls)
    answers: dict[int, int] = {}
    try:
        async def disrupt():
            async with httpx.AsyncClient(base_url=p.gateway, timeout=30) as reader:
                os.kill(own_postgres.pid, signal.SIGKILL)
                deadline = time.monotonic() + 60  # longer than every timeout and retry
                while time.monotonic() < deadline:
                    for path in READS:
                        r = await reader.get(path)
                        answers[r.status_code] = answers.get(r.status_code, 0) + 1
                        if r.status_code == 503:
                            assert r.headers.get("retry-after"), r.headers
                        if r.status_code >= 500 and r.status_code != 503:
                            raise AssertionError(f"{path}: {r.status_code} {r.text[:300]}")
                    await asyncio.sleep(0.5)
            await _start_again(own_postgres)  # same port, same data

        await _flow(p, disrupt)
        assert answers.get(503), answers
        for name in ("registry", "ingest", "search", "gateway"):
            logged = [line for line in p.logs(name).splitlines()
                      if '"status": 500' in line or "unhandled error" in line]
            assert logged == [], f"{name} logged 500s: {logged[:3]}"
        gateway = p.logs("gateway")
        assert "its database is away" in gateway
        assert "refused the gateway's signature" not in gateway
    finally:
        await stop_platform(p)


async def test_registry_search_and_ingest_killed_mid_flow_apply_every_row_exactly_once(
        pg_server_url, nats_url, nats_service_urls):
    """kill -9 of each consumer in turn; search picks up its in-flight events within 10 s."""
    p = await start_platform(pg_server_url, nats_url, nats_urls=nats_service_urls)
    try:
        async def disrupt():
            for name in ("registry", "search", "ingest"):
                p.procs.kill(name, signal.SIGKILL)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(p.restart, name)
                if name == "search":
                    # the killed process's unacked events come back after the 5 s ack wait
                    before = await _search_progress(p)
                    await eventually(lambda: _grew(p, before), timeout=10, interval=0.2)
                await asyncio.sleep(2.0)

        await _flow(p, disrupt)
    finally:
        await stop_platform(p)


async def _grew(p, before: int) -> bool:
    """Search indexed something after its restart, or had nothing left to index."""
    now = await _search_progress(p)
    if now > before:
        return True
    conn = await asyncpg.connect(p.database_url)
    try:
        return now == await conn.fetchval("SELECT count(*) FROM registry.records") and \
            await conn.fetchval("SELECT count(*) FROM registry.outbox WHERE sent_at IS NULL") == 0
    finally:
        await conn.close()


async def test_nats_killed_mid_flow_applies_every_accepted_row_exactly_once(
        pg_server_url, own_nats):
    p = await start_platform(pg_server_url, own_nats.url, nats_urls=own_nats.service_urls())
    try:
        async def disrupt():
            os.killpg(own_nats.process.pid, signal.SIGKILL)
            own_nats.process.wait(5)
            # longer than every NATS timeout in the path (publish 5 s, ack wait 5 s, backoff 10 s);
            # submissions keep arriving and are kept in the outbox meanwhile
            await asyncio.sleep(30.0)
            await asyncio.to_thread(own_nats.start)  # same port, same JetStream store

        await _flow(p, disrupt)
    finally:
        await stop_platform(p)
