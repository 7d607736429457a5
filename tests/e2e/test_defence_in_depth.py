"""Defence in depth, end to end. Schemathesis against the running gateway: every
operation, every check, a fixed seed, and not one server error from any input; the services'
own logs must show no unhandled error either (a 5xx the gateway turned into something else
still counts). Also: no internal address in any answer, a role per service in PostgreSQL, and
gzip submissions through the gateway."""

from __future__ import annotations

import asyncio
import json
import subprocess
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from tests.e2e.harness import start_platform, stop_platform

pytestmark = pytest.mark.e2e
ST = Path(sys.executable).parent / "st"
SEED = 20261128
# generous limits: this run is about inputs, not about the rate limiter refusing the fuzzer
LIMITS = {"GATEWAY_RATE_LIMIT_KEY": "1000000/minute",
          "GATEWAY_RATE_LIMIT_ADDRESS": "1000000/minute",
          "GATEWAY_RATE_LIMIT_AUTH_FAILURES": "1000000/minute",
          "GATEWAY_UPLOADS_PER_KEY": "8"}


@pytest.fixture(scope="module")
async def fuzzed_platform(pg_server_url, nats_url, nats_service_urls):
    running = await start_platform(pg_server_url, nats_url, sample_values=True,
                                   extra_env=LIMITS, nats_urls=nats_service_urls)
    yield running
    await stop_platform(running)


async def test_a_gzip_submission_through_the_gateway_is_accepted(fuzzed_platform):
    import gzip

    p = fuzzed_platform  # before the fuzzer, which may withdraw the dataset or revoke keys
    rows = [{"region": "64.08.04.2001", "period": "2031", "jenis_kelamin": sex, "jumlah": n}
            for sex, n in (("L", 10), ("P", 12))]
    body = gzip.compress(json.dumps({"dataset": "jumlah-penduduk", "rows": rows}).encode())
    async with p.client() as client:
        r = await client.post("/v1/submissions", content=body,
                              headers={**p.auth("DESA"), "Content-Type": "application/json",
                                       "Content-Encoding": "gzip"})
    assert r.status_code == 202, r.text
    assert r.json()["rows"] == 2


async def test_schemathesis_finds_no_server_error(fuzzed_platform):
    p = fuzzed_platform
    report = Path(tempfile.mkdtemp(prefix="satudata-st-")) / "run.ndjson"
    command = [str(ST), "run", f"{p.gateway}/openapi.json",
               "-H", f"Authorization: Bearer {p.keys['SATUDATA_KEY_WALIDATA']}",
               "--checks", "all", "--seed", str(SEED), "--max-examples", "25",
               "--max-time", "60", "--workers", "2", "--request-timeout", "20",
               "--no-shrink", "--no-color", "--suppress-health-check", "all",
               # an endless stream: its own tests cover it (test_abuse_limits, e2e)
               "--exclude-path", "/v1/events",
               "--report", "ndjson", "--report-ndjson-path", str(report)]
    result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True,
                                     timeout=280, cwd=report.parent)
    output = result.stdout + result.stderr
    summary = output[output.rfind("SUMMARY"):] if "SUMMARY" in output else output[-3000:]
    print(summary)
    assert "Operations:" in output, output[-3000:]
    assert "ST101" not in output and "Server error" not in output, summary
    statuses = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    shutil.rmtree(report.parent, ignore_errors=True)  # (~20 MB a run)
    assert statuses, "schemathesis wrote no events"
    for name in ("gateway", "registry", "ingest", "search"):
        log = p.logs(name)
        assert "unhandled error" not in log, (name, [line[:400] for line in log.splitlines()
                                                     if "unhandled error" in line][:3])


async def test_no_answer_names_an_internal_address_or_the_server(fuzzed_platform):
    p = fuzzed_platform
    internal = [f":{port}" for name, port in p.ports.items() if name != "gateway"]
    async with p.client() as client:
        answers = [await client.get(path) for path in (
            "/readyz", "/healthz", "/openapi.json", "/v1/datasets", "/v1/datasets/tidak-ada",
            "/v1/submissions", "/v1/nope", "/docs", "/",
            "/api/3/action/package_show?id=tidak-ada")]
        answers.append(await client.post("/v1/submissions", json={"rows": []},
                                         headers={"Authorization": "Bearer ngarang"}))
    for answer in answers:
        assert "server" not in answer.headers, answer.url
        text = answer.text + " ".join(answer.headers.values())
        assert not any(address in text for address in internal), (answer.url, text[:300])


async def test_each_service_role_touches_only_its_own_schema(fuzzed_platform):
    import asyncpg

    from satudata.platform import role_password, service_role

    scheme, rest = fuzzed_platform.database_url.split("://", 1)
    host = rest.split("@", 1)[-1]
    role = service_role("ingest")
    conn = await asyncpg.connect(
        f"{scheme}://{role}:{role_password(fuzzed_platform.database_url, role)}@{host}")
    try:
        assert await conn.fetchval("SELECT count(*) >= 0 FROM ingest.submissions")
        for statement in ("SELECT count(*) FROM registry.api_keys",
                          "DELETE FROM search.records",
                          "CREATE TABLE registry.stolen (x int)"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute(statement)
    finally:
        await conn.close()
