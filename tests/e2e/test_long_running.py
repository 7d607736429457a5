"""A platform that runs for years: `satudata up` as an operator runs it, restarted, with the
operator's commands run beside it, and with its embedded servers killed under it.

Each test runs `satudata up` as a subprocess on a data folder of its own, with its own embedded
PostgreSQL and NATS (it kills them), never the machine's servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import asyncpg
import httpx
import pytest

from satudata import ownership
from satudata import platform as sd
from shared.infra import free_port
from tests.helpers import eventually

pytestmark = [pytest.mark.e2e]

SATUDATA = str(Path(sys.executable).parent / "satudata")
VILLAGE = "64.08.04.2001"


class Up:
    """``satudata up`` in a data folder of its own, on free ports."""

    def __init__(self, home: Path, ports: dict[str, int] | None = None):
        self.home = home
        self.ports = ports or {n: free_port() for n in sd.SERVICES}
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "NATS_URL", "NATS_NAMESPACE")}
        self.env.update({f"{n.upper()}_PORT": str(p) for n, p in self.ports.items()})
        self.env.update(SATUDATA_HOME=str(home), SATUDATA_PG_SHARED_BUFFERS="128MB")
        self.lines: list[str] = []
        self.proc: subprocess.Popen | None = None

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([SATUDATA, "up", *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)

    async def run(self) -> None:
        self.proc = self.start()
        ready = threading.Event()

        def read():  # to the end: a full pipe would stall the platform's output
            for line in self.proc.stdout:
                self.lines.append(line)
                if "ready: gateway" in line:
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        assert await asyncio.to_thread(ready.wait, 240), self.output()

    def output(self) -> str:
        return "".join(line for line in self.lines if line.startswith("satudata |"))

    def holder(self) -> dict:
        """What the running platform wrote in its lock file (its servers' pids and ports)."""
        text = (self.home / ownership.LOCK_FILE).read_text()
        said = json.loads(text)
        assert "servers" in said, f"platform.lock holds {text!r}, lock held: " \
            f"{ownership.HomeLock(self.home).holder() is not None}\n{self.output()}"
        return said

    def database_url(self) -> str:  # the operator's (superuser) URL of the embedded server
        password = (self.home / "postgres.password").read_text().strip()
        return f"postgresql://postgres:{password}@127.0.0.1:" \
               f"{self.holder()['servers']['postgres']['port']}/satudata"

    def keys(self) -> dict[str, str]:
        return sd.read_env_file(self.home / "dev-keys.env")

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys()[f'SATUDATA_KEY_{who}']}"}

    def command(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([SATUDATA, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    async def stop(self) -> None:
        """Ctrl-C, as an operator stops it; then every server it owned must be gone."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                await asyncio.to_thread(self.proc.wait, 90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                raise


@pytest.fixture
def home():
    # not pytest's tmp_path: other pytest sessions on this machine prune /tmp/pytest-of-<user>
    folder = Path(tempfile.mkdtemp(prefix="satudata-e2e-home-"))
    yield folder
    import shutil
    shutil.rmtree(folder, ignore_errors=True)


async def _submitted(c: httpx.AsyncClient, headers: dict, rows: list[dict]) -> dict:
    r = await c.post("/v1/submissions", json={"dataset": "jumlah-penduduk", "rows": rows},
                     headers=headers)
    assert r.status_code == 202, r.text

    async def final():
        s = (await c.get(f"/v1/submissions/{r.json()['id']}", headers=headers)).json()
        return s if s.get("status") in ("completed", "partial", "failed") else None
    return await eventually(final, timeout=120, interval=0.3)


async def _history(database_url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return (await conn.fetchval("SELECT count(*) FROM registry.record_versions"),
                await conn.fetchval("SELECT count(*) FROM registry.audit_log"))
    finally:
        await conn.close()


async def test_a_restart_keeps_a_corrected_value_a_grant_a_revoked_key_and_a_renamed_region(
        home):
    up = Up(home)
    await up.run()
    try:
        async with httpx.AsyncClient(base_url=up.gateway, timeout=30) as c:
            walidata, opd = up.auth("WALIDATA"), up.auth("OPD")
            row = {"region": VILLAGE, "period": "2023", "jenis_kelamin": "L"}
            seeded = (await c.get("/v1/datasets/jumlah-penduduk/records",
                                  params={"region": VILLAGE, "period_from": "2023",
                                          "period_to": "2023", "jenis_kelamin": "L"})).json()
            corrected = seeded["items"][0]["values"]["jumlah"] + 5  # the OPD's correction
            done = await _submitted(c, opd, [{**row, "jumlah": corrected}])
            assert done["counts"]["updated"] == 1, done
            # a grant: the walidata lets the village key also write a dataset it creates
            payload = {"slug": "contoh-sekolah", "title": "Sekolah (data contoh)",
                       "frequency": "annual",
                       "metadata": {"produsen_data": "Dinas Pendidikan (contoh)",
                                    "walidata": "Diskominfo", "konsep": "Sekolah",
                                    "definisi": "Satuan pendidikan", "satuan": "unit"},
                       "schema": {"measures": [{"name": "jumlah", "label": "Jumlah"}]}}
            assert (await c.post("/v1/datasets", json=payload,
                                 headers=walidata)).status_code == 201
            desa = f"desa-{VILLAGE}"
            r = await c.patch(f"/v1/publishers/{desa}", headers=walidata,
                              json={"datasets": ["jumlah-penduduk", "contoh-sekolah"]})
            assert r.status_code == 200, r.text
            # a key: the OPD's development key revoked
            keys = (await c.get("/v1/keys", headers=walidata)).json()["items"]
            opd_key = next(k for k in keys if "SATUDATA_KEY_OPD" in (k.get("label") or ""))
            assert (await c.post(f"/v1/keys/{opd_key['id']}/revoke",
                                 headers=walidata)).status_code == 200
            # a region name corrected by decree
            r = await c.post("/v1/regions/import", headers=walidata, json={"rows": [
                {"code": VILLAGE, "name": "Sangatta Utara Baru", "level": "desa",
                 "parent_code": "64.08.04"}]})
            assert r.status_code == 200, r.text
        before = await _history(up.database_url())
    finally:
        await up.stop()

    again = Up(home, up.ports)
    await again.run()
    try:
        assert "nothing seeded or changed" in again.output(), again.output()
        async with httpx.AsyncClient(base_url=again.gateway, timeout=30) as c:
            now = (await c.get("/v1/datasets/jumlah-penduduk/records",
                               params={"region": VILLAGE, "period_from": "2023",
                                       "period_to": "2023", "jenis_kelamin": "L"})).json()
            assert now["items"][0]["values"]["jumlah"] == corrected
            assert now["items"][0]["publisher_id"] == "disdukcapil"
            publisher = (await c.get("/v1/publishers", headers=up.auth("WALIDATA"))).json()
            granted = next(p for p in publisher["items"] if p["id"] == desa)["datasets"]
            assert sorted(granted) == ["contoh-sekolah", "jumlah-penduduk"]
            r = await c.get("/v1/timeliness/mine", headers=up.auth("OPD"))
            assert r.status_code == 401 and r.json()["error"]["code"] == "revoked_api_key"
            region = (await c.get(f"/v1/regions/{VILLAGE}")).json()
            assert region["name"] == "Sangatta Utara Baru"
        assert await _history(again.database_url()) == before  # no new version, no audit entry
    finally:
        await again.stop()


async def test_commands_beside_a_running_platform_visit_it_and_stop_nothing(home):
    up = Up(home)
    await up.run()
    failures: list[str] = []
    reads = {"n": 0}
    stop_reading = asyncio.Event()

    async def keep_reading():
        async with httpx.AsyncClient(base_url=up.gateway, timeout=10) as c:
            while not stop_reading.is_set():
                try:
                    r = await c.get("/v1/datasets/jumlah-penduduk/records",
                                    params={"limit": 5})
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                reads["n"] += 1
                await asyncio.sleep(0.1)

    reader = asyncio.create_task(keep_reading())
    try:
        verify = await asyncio.to_thread(up.command, "verify")
        assert verify.returncode == 0 and "chains intact" in verify.stdout, verify.stdout
        status = await asyncio.to_thread(up.command, "status")
        owner = status.stdout.splitlines()[0]
        assert f"satudata up pid {up.proc.pid}" in owner and "postgres pid" in owner, owner
        backup = await asyncio.to_thread(up.command, "backup", str(home / "cadangan"))
        assert backup.returncode == 0, backup.stdout + backup.stderr
        second = await asyncio.to_thread(
            lambda: subprocess.run([SATUDATA, "up"], env=up.env, capture_output=True,
                                   text=True, timeout=120))
        assert second.returncode != 0, second.stdout
        assert "already running" in second.stdout and up.gateway.replace(
            "127.0.0.1", "localhost") in second.stdout, second.stdout
        seen = reads["n"]

        async def still_reading():
            return reads["n"] > seen + 5
        await eventually(still_reading, timeout=30)
    finally:
        stop_reading.set()
        await reader
    try:
        assert failures == [] and reads["n"] > 10, failures[:5]
        assert up.proc.poll() is None and up.holder()["pid"] == up.proc.pid
    finally:
        await up.stop()
    assert ownership.running_platform(home) is None


async def test_a_killed_nats_server_is_started_again_and_every_accepted_row_applied(home):
    up = Up(home)
    await up.run()
    try:
        opd = up.auth("OPD")
        rows = [{"region": VILLAGE, "period": str(year), "jenis_kelamin": sex,
                 "jumlah": 1000 + year} for year in range(2000, 2020) for sex in "LP"]
        nats_pid = up.holder()["servers"]["nats"]["pid"]
        os.kill(nats_pid, signal.SIGKILL)
        async with httpx.AsyncClient(base_url=up.gateway, timeout=30) as c:
            # accepted while NATS is down or coming back: kept in ingest's outbox
            r = await c.post("/v1/submissions", headers=opd,
                             json={"dataset": "jumlah-penduduk", "rows": rows})
            assert r.status_code == 202, r.text

            async def nats_back():
                return "embedded nats server was not running; started it again" in up.output()
            await eventually(nats_back, timeout=60, interval=0.5)

            async def applied():
                s = (await c.get(f"/v1/submissions/{r.json()['id']}", headers=opd)).json()
                return s["status"] == "completed" and s
            done = await eventually(applied, timeout=180, interval=0.5)
        assert done["counts"]["created"] == len(rows), done
        conn = await asyncpg.connect(up.database_url())
        try:
            stored = await conn.fetchval(
                "SELECT count(*) FROM registry.records WHERE region_code = $1 AND "
                "period BETWEEN '2000' AND '2019'", VILLAGE)
        finally:
            await conn.close()
        assert stored == len(rows)  # rows counted in the database, not requests
    finally:
        await up.stop()


async def _table(database_url: str, sql: str) -> list:
    conn = await asyncpg.connect(database_url)
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


async def test_a_backup_taken_while_submissions_flow_restores_into_a_fresh_home_with_trust(home):
    """Backup while submissions flow; restore into a new data folder (a new receipt key): the
    same history, chains and audit log, a receipt issued before still verifies, and the
    restored platform applies what was in flight and accepts new submissions."""
    from shared import receipts

    up = Up(home / "a")
    await up.run()
    opd = up.auth("OPD")
    try:
        async with httpx.AsyncClient(base_url=up.gateway, timeout=30) as c:
            first = await _submitted(c, opd, [
                {"region": VILLAGE, "period": "2010", "jenis_kelamin": s, "jumlah": 700}
                for s in "LP"])
            r = await c.get(f"/v1/submissions/{first['id']}/receipt", headers=opd)
            assert r.status_code == 200, r.text
            receipt = r.content
            r = await c.post("/v1/keys", headers=up.auth("WALIDATA"),
                             json={"publisher_id": "disdukcapil", "label": "cadangan"})
            assert r.status_code == 201  # an audit entry
            flowing = {"go": True, "sent": 0}

            async def flow():  # submissions keep arriving while the backup runs
                year = 1950  # another village's years: the first submission's stay its own
                while flowing["go"]:
                    rows = [{"region": "64.08.04.2011", "period": str(year),
                             "jenis_kelamin": s, "jumlah": 500 + year % 7} for s in "LP"]
                    r = await c.post("/v1/submissions", headers=opd,
                                     json={"dataset": "jumlah-penduduk", "rows": rows})
                    assert r.status_code == 202, r.text
                    flowing["sent"] += 1
                    year += 1
                    await asyncio.sleep(0.05)
            task = asyncio.create_task(flow())
            await asyncio.sleep(1.0)
            backup = await asyncio.to_thread(up.command, "backup", str(home / "cadangan"))
            await asyncio.sleep(0.5)
            flowing["go"] = False
            await task
            assert backup.returncode == 0, backup.stdout + backup.stderr
            assert flowing["sent"] > 5
        source = up.database_url()
        first_history = await _table(source, f"""
            SELECT v.record_id, v.version, v.vals::text, encode(v.hash, 'hex')
            FROM registry.record_versions v JOIN registry.records r ON r.id = v.record_id
            WHERE r.submission_id = '{first['id']}' ORDER BY 1, 2""")
        audit = await _table(source, "SELECT id, action, encode(hash, 'hex') "
                                     "FROM registry.audit_log ORDER BY id")
    finally:
        await up.stop()

    fresh = Up(home / "b")  # a new data folder: new servers, a new receipt key
    restore = await asyncio.to_thread(fresh.command, "restore", str(home / "cadangan"))
    assert restore.returncode == 0, restore.stdout + restore.stderr
    await fresh.run()
    try:
        assert "nothing seeded or changed" in fresh.output()
        restored = fresh.database_url()
        assert await _table(restored, f"""
            SELECT v.record_id, v.version, v.vals::text, encode(v.hash, 'hex')
            FROM registry.record_versions v JOIN registry.records r ON r.id = v.record_id
            WHERE r.submission_id = '{first['id']}' ORDER BY 1, 2""") == first_history
        assert await _table(restored, "SELECT id, action, encode(hash, 'hex') "
                                      "FROM registry.audit_log ORDER BY id") == audit
        verify = await asyncio.to_thread(fresh.command, "verify")
        assert verify.returncode == 0 and "chains intact" in verify.stdout, verify.stdout
        async with httpx.AsyncClient(base_url=fresh.gateway, timeout=30) as c:
            document = (await c.get("/.well-known/satudata-keys.json")).json()
            old = json.loads(receipt)["key_id"]
            assert document["keys"][0]["kid"] != old  # signed anew from now on
            ok, reason, _ = receipts.verify(receipt, receipts.public_keys(document))
            assert ok, reason

            # every submission the backup holds ends (its events re-published), then new ones
            async def all_final():
                rows = await _table(restored, "SELECT status FROM ingest.submissions")
                return all(s in ("completed",) for (s,) in rows) and len(rows)
            assert await eventually(all_final, timeout=120, interval=0.5) >= 2
            done = await _submitted(c, opd, [{"region": VILLAGE, "period": "2011",
                                              "jenis_kelamin": "L", "jumlah": 800}])
            assert done["status"] == "completed" and done["counts"]["created"] == 1
        # consistent across schemas: every row of every submission in ingest's dump is in the
        # registry's (the dumps share one snapshot)
        assert await _table(restored, """
            SELECT count(*) FROM ingest.submissions s
            WHERE NOT EXISTS (SELECT 1 FROM registry.records r WHERE r.submission_id = s.id)
            """) == [(0,)]
    finally:
        await fresh.stop()
