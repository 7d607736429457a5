"""What operators run and look at: /metrics, `satudata status`, backup and restore, replicas.

These tests start their own PostgreSQL and NATS where they stop one, and run the CLI as an
operator would (a subprocess), against the platform's real processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import httpx
import pytest

from satudata import platform as sd
from shared.infra import EmbeddedNats, EmbeddedPostgres, free_port
from tests.e2e.harness import (_create_database, _drop_database, remove_logs,
                               start_platform, stop_platform)
from tests.helpers import eventually

pytestmark = [pytest.mark.e2e]

DESA_ROWS = [{"region": "6408011001", "period": str(year), "jenis_kelamin": sex,
              "jumlah": 1000 + year % 100} for year in range(2015, 2025) for sex in "LP"]
SATUDATA = str(Path(sys.executable).parent / "satudata")


def _value(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + ("{" if labels else " ")) and not (
                not labels and line.startswith(name + "{")):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def _desa_code(p) -> str:
    return p.keys["SATUDATA_DESA_CODE"]  # the seeded development village


async def _submit(c: httpx.AsyncClient, headers: dict, rows: list[dict]) -> str:
    r = await c.post("/v1/submissions", json={"dataset": "jumlah-penduduk", "rows": rows},
                     headers=headers)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def _completed(c: httpx.AsyncClient, headers: dict, sid: str) -> None:
    async def done():
        return (await c.get(f"/v1/submissions/{sid}", headers=headers)).json()["status"] \
            == "completed"
    await eventually(done, timeout=60, interval=0.3)


async def test_metrics_on_every_service_and_a_stalled_submission_when_postgres_stops(
        tmp_path, monkeypatch):
    # a second server beside the session's: small, or the machine's memory may refuse it
    monkeypatch.setenv("SATUDATA_PG_SHARED_BUFFERS", "128MB")
    pg = await asyncio.to_thread(EmbeddedPostgres(tmp_path / "pg").start)
    nats = await asyncio.to_thread(EmbeddedNats(tmp_path / "nats").start)
    p = await start_platform(pg.url, nats.url, extra_env={"INGEST_STALL_AFTER": "5"})
    try:
        code = await _desa_code(p)
        rows = [dict(r, region=code) for r in DESA_ROWS]
        async with p.client() as c:
            sid = await _submit(c, p.auth("OPD"), rows)
            await _completed(c, p.auth("OPD"), sid)
            await c.get("/v1/search", params={"q": "penduduk"})
            pages = {name: (await c.get(f"{p.url(name)}/metrics")).text
                     for name in ("registry", "ingest", "search", "gateway")}

        # latency by route template, never a raw path (the submission id is in no label)
        assert _value(pages["ingest"], "satudata_http_request_duration_seconds_count",
                      route="/v1/submissions", method="POST") >= 1
        assert _value(pages["gateway"], "satudata_http_request_duration_seconds_count",
                      route="/v1/submissions/…", method="GET") >= 1
        assert all(sid not in page for page in pages.values())
        # the gateway's /metrics is its own: no outbox, no consumers, nothing proxied
        assert "satudata_outbox_pending" not in pages["gateway"]
        assert _value(pages["registry"], "satudata_outbox_pending") == 0
        assert _value(pages["registry"], "satudata_consumer_ack_pending",
                      consumer="registry-submissions") == 0
        assert _value(pages["search"], "satudata_consumer_pending",
                      consumer="search-indexer") is not None
        assert _value(pages["search"], "search_index_lag_seconds") is not None
        assert _value(pages["ingest"], "satudata_dead_letters") == 0
        assert _value(pages["ingest"], "satudata_submissions_stalled") == 0

        # NATS away: ingest still accepts, the submission waits in the outbox
        os.killpg(nats.process.pid, signal.SIGKILL)
        nats.process.wait(10)
        async with p.client() as c:
            waiting = await _submit(c, p.auth("OPD"), [dict(rows[0], jumlah=7)])
            metrics_url = f"{p.url('ingest')}/metrics"

            async def seen_unfinished():
                text = (await c.get(metrics_url)).text
                return _value(text, "satudata_submissions_unfinished") == 1
            await eventually(seen_unfinished, timeout=20, interval=0.2)

            await asyncio.to_thread(pg.stop)  # and now PostgreSQL too

            last = {}

            async def stalled():
                last["text"] = text = (await c.get(metrics_url, timeout=10)).text
                return (_value(text, "satudata_database_up") == 0
                        and _value(text, "satudata_submissions_stalled") == 1)
            try:
                await eventually(stalled, timeout=30, interval=0.5)
            except AssertionError:
                raise AssertionError("\n".join(
                    line for line in last.get("text", "").splitlines()
                    if line.startswith(("satudata_database", "satudata_sub", "satudata_nats"))))

        env = {**os.environ, **{f"SATUDATA_{n.upper()}_URLS": p.url(n) for n in p.ports},
               "SATUDATA_HOME": str(tmp_path / "home")}
        out = await asyncio.to_thread(subprocess.run, [SATUDATA, "status"], env=env,
                                      capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out.stdout + out.stderr  # something needs an operator
        ingest_line = [line for line in out.stdout.splitlines() if line.startswith("ingest")]
        assert "NOT READY" in ingest_line[0] and "stalled 1" in ingest_line[0], out.stdout
        assert waiting not in out.stdout
    finally:
        await asyncio.to_thread(p.procs.stop)
        remove_logs(p)
        nats.stop()
        pg.stop()


async def _answers(p, record_id: str) -> dict:
    async with p.client() as c:
        search = (await c.get("/v1/search", params={"q": "penduduk", "limit": 50})).json()
        records = (await c.get("/v1/datasets/jumlah-penduduk/records",
                               params={"limit": 1000})).json()
        history = (await c.get(f"/v1/records/{record_id}")).json()
    # links name the gateway that answered; the two platforms listen on different ports
    return json.loads(json.dumps({"search": search, "records": records, "history": history})
                      .replace(p.gateway, "GATEWAY"))


async def test_backup_restored_into_a_fresh_database_answers_the_same(pg_server_url, nats_url,
                                                                     tmp_path):
    p = await start_platform(pg_server_url, nats_url)
    restored = None
    try:
        code = await _desa_code(p)
        async with p.client() as c:
            first = await _submit(c, p.auth("OPD"), [dict(r, region=code) for r in DESA_ROWS])
            await _completed(c, p.auth("OPD"), first)
            second = await _submit(c, p.auth("OPD"), [dict(r, region=code, jumlah=r["jumlah"] + 1)
                                                      for r in DESA_ROWS[:4]])
            await _completed(c, p.auth("OPD"), second)  # four records now have 2 versions
            records = (await c.get("/v1/datasets/jumlah-penduduk/records",
                                   params={"limit": 1000})).json()
        record_id = next(r["id"] for r in records["items"] if r["version"] == 2)
        await eventually(lambda: _indexed(p), timeout=30)
        before = await _answers(p, record_id)
        assert len(before["history"]["history"]) == 2

        env = {**os.environ, "DATABASE_URL": p.database_url, "NATS_URL": nats_url,
               "SATUDATA_HOME": str(tmp_path / "home")}
        out = await asyncio.to_thread(subprocess.run, [SATUDATA, "backup", str(tmp_path / "b")],
                                      env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
    finally:
        await stop_platform(p)  # the original database is gone

    fresh = await _create_database(pg_server_url)
    out = await asyncio.to_thread(
        subprocess.run, [SATUDATA, "restore", str(tmp_path / "b")],
        env={**env, "DATABASE_URL": fresh}, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    again = await asyncio.to_thread(
        subprocess.run, [SATUDATA, "restore", str(tmp_path / "b")],
        env={**env, "DATABASE_URL": fresh}, capture_output=True, text=True, timeout=300)
    assert again.returncode != 0 and "fresh database" in again.stderr + again.stdout
    try:
        restored = await start_platform(pg_server_url, nats_url, database_url=fresh)
        after = await _answers(restored, record_id)
        assert after["history"] == before["history"]
        assert after["records"] == before["records"]
        assert after["search"] == before["search"]
    finally:
        if restored is not None:
            await stop_platform(restored)
        else:
            await _drop_database(fresh)


async def _indexed(p) -> bool:
    async with p.client() as c:
        found = (await c.get("/v1/search", params={"q": "penduduk", "kind": "record"})).json()
    return found.get("total", 0) >= len(DESA_ROWS)


async def test_up_runs_replicas_that_share_the_work(pg_server_url, nats_url, tmp_path):
    database_url = await _create_database(pg_server_url)
    ports = {f"{n.upper()}_PORT": str(free_port()) for n in sd.SERVICES}
    env = {**os.environ, **ports, "DATABASE_URL": database_url, "NATS_URL": nats_url,
           "NATS_NAMESPACE": f"up{uuid.uuid4().hex[:8]}", "SATUDATA_HOME": str(tmp_path)}
    up = subprocess.Popen([SATUDATA, "up", "--replicas", "search=2,registry=2"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          start_new_session=True)
    lines: list[str] = []
    try:
        ready = threading.Event()

        def read_output():  # to the end: a full pipe would stall the services' output
            for line in up.stdout:
                lines.append(line)
                if "ready: gateway" in line:
                    ready.set()
        threading.Thread(target=read_output, daemon=True).start()
        assert await asyncio.to_thread(ready.wait, 180), "".join(lines)
        urls = sd.read_env_file(tmp_path / "services.env")
        assert len(urls["SATUDATA_SEARCH_URLS"].split(",")) == 2
        assert len(urls["SATUDATA_REGISTRY_URLS"].split(",")) == 2
        keys = sd.read_env_file(tmp_path / "dev-keys.env")
        gateway = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        headers = {"Authorization": f"Bearer {keys['SATUDATA_KEY_OPD']}"}
        async with httpx.AsyncClient(base_url=gateway, timeout=30) as c:
            rows = [dict(r, region=keys["SATUDATA_DESA_CODE"]) for r in DESA_ROWS]
            sid = await _submit(c, headers, rows)
            await _completed(c, headers, sid)
            for _ in range(4):  # the gateway uses both search replicas in turn
                assert (await c.get("/v1/search", params={"q": "penduduk"})).status_code == 200
            served = [_value((await c.get(f"{u}/metrics")).text,
                             "satudata_http_request_duration_seconds_count",
                             route="/v1/search", method="GET") or 0
                      for u in urls["SATUDATA_SEARCH_URLS"].split(",")]
        assert all(n >= 1 for n in served), served
        status = await asyncio.to_thread(subprocess.run, [SATUDATA, "status"], env=env,
                                         capture_output=True, text=True, timeout=60)
        assert len(re.findall(r"^search ", status.stdout, re.M)) == 2, status.stdout
        assert len(re.findall(r"^registry ", status.stdout, re.M)) == 2, status.stdout
        assert status.returncode == 0, status.stdout
    finally:
        print("".join(lines))  # (the platform's own log, shown where the test fails)
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGINT)
            try:
                await asyncio.to_thread(up.wait, 60)
            except subprocess.TimeoutExpired:
                os.killpg(up.pid, signal.SIGKILL)
        await _drop_database(database_url)
