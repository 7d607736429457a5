"""A chunk that can never succeed ends in DEADLETTER, its submission is final with the reason,
and `satudata deadletter replay` of the fixed chunk applies it once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import asyncpg
import pytest

from tests.helpers import eventually

pytestmark = pytest.mark.e2e

DESA = "64.08.04.2001"

# What a refused row looks like to the registry: a database rule its data violates (22023).
_REFUSE = """
CREATE FUNCTION registry.refuse_1901() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.period = '1901' THEN
        RAISE EXCEPTION 'periode 1901 ditolak' USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_1901 BEFORE INSERT ON registry.records
    FOR EACH ROW EXECUTE FUNCTION registry.refuse_1901();
"""


def _cli(p, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NATS_URL": p.nats_url, "NATS_NAMESPACE": p.namespace}
    return subprocess.run([sys.executable, "-m", "satudata.cli", "deadletter", *args],
                          env=env, capture_output=True, text=True, timeout=60)


async def test_a_chunk_that_cannot_succeed_is_final_and_replayed_once(running_platform):
    p = running_platform
    conn = await asyncpg.connect(p.database_url)
    try:
        await conn.execute(_REFUSE)
        async with p.client() as client:
            rows = [{"region": DESA, "period": "1901", "jenis_kelamin": s, "jumlah": 7}
                    for s in ("L", "P")]
            r = await client.post("/v1/submissions", json={"dataset": "jumlah-penduduk",
                                                           "rows": rows}, headers=p.auth("OPD"))
            assert r.status_code == 202, r.text
            status_url = r.json()["status_url"]

            async def status(expected):
                s = (await client.get(status_url, headers=p.auth("OPD"))).json()
                return s if s["status"] == expected else None

            failed = await eventually(lambda: status("failed"), timeout=30)
            assert failed["chunks_failed"][0]["chunk"] == 0
            assert "periode 1901 ditolak" in failed["chunks_failed"][0]["reason"]
            assert "periode 1901 ditolak" in failed["error"]

            listed = await asyncio.to_thread(_cli, p, "list", "--json")
            assert listed.returncode == 0, listed.stderr
            letters = [json.loads(line) for line in listed.stdout.splitlines()]
            assert [(x["consumer"], x["subject"]) for x in letters] == [
                ("registry-submissions", "ingest.submissions.chunk.v1")]
            assert f"submission_id={r.json()['id']}" in letters[0]["summary"]
            assert "periode 1901 ditolak" in letters[0]["reason"]

            await conn.execute("DROP TRIGGER refuse_1901 ON registry.records")  # the fix
            replayed = await asyncio.to_thread(_cli, p, "replay", "--all")
            assert replayed.returncode == 0, replayed.stderr
            assert "1 pesan dikirim ulang" in replayed.stdout

            done = await eventually(lambda: status("completed"), timeout=30)
            assert done["chunks_failed"] == [] and done["error"] is None
            assert done["counts"]["created"] == 2
            again = await asyncio.to_thread(_cli, p, "replay", "--all")
            assert "0 pesan dikirim ulang" in again.stdout
        versions = await conn.fetchval(
            "SELECT count(*) FROM registry.record_versions v JOIN registry.records r "
            "ON r.id = v.record_id WHERE r.period = '1901'")
        assert versions == 2
    finally:
        await conn.execute("DROP TRIGGER IF EXISTS refuse_1901 ON registry.records")
        await conn.execute("DROP FUNCTION IF EXISTS registry.refuse_1901()")
        await conn.close()
