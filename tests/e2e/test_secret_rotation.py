"""The internal signing secret rotated with the services running (docs/runbooks/rotation.md).

Each service is restarted on its own, one at a time, through the three steps of the runbook:
1. every service also accepts the new secret (``SATUDATA_SERVICE_SECRET_PREVIOUS=new``),
2. every service signs with the new secret and still accepts the old one (swap),
3. the old secret is dropped.
After every single restart (services on different steps, as replicas are during a rollout) a
village submission goes through the gateway to ingest and the registry, and records and search
answer through the gateway: no call is refused. Before the change a call signed with the new
secret is refused, after it one signed with the old secret is.
"""

from __future__ import annotations

import asyncio
import signal
import uuid

import httpx
import pytest

from shared.signing import signed_headers
from tests.e2e.harness import start_platform, stop_platform
from tests.helpers import eventually

pytestmark = [pytest.mark.e2e]

OLD, NEW = "lama" * 16, "baru" * 16
# callers before the services they call: the order in which skipping step 1 would break calls
# (the steps make any order safe, as replicas of different Deployments roll independently)
ORDER = ("gateway", "ingest", "search", "registry")
# a signed GET on each service; what it answers past the signature check does not matter here
PROBES = {"registry": "/v1/datasets", "search": "/v1/search?q=penduduk",
          "ingest": f"/v1/submissions/{uuid.UUID(int=0)}"}


async def _signature_refused(p, service: str, secret: str) -> bool:
    """Whether the service refuses a call signed with this secret for its signature (a 401
    for anything else, such as ingest wanting an API key, is past the signature check)."""
    path = PROBES[service]
    async with httpx.AsyncClient(base_url=p.url(service), timeout=10) as raw:
        r = await raw.get(path, headers=signed_headers(secret, "gateway", "GET", path, b""))
    return r.status_code == 401 and r.json()["error"]["code"] == "invalid_signature"


async def _roll(p, base_env: dict, name: str, secret: str, previous: str = "") -> None:
    """Restart one service with these secrets; the others keep what they run with."""
    await asyncio.to_thread(p.procs.kill, name, signal.SIGTERM)
    env = {k: v for k, v in base_env.items() if k != "SATUDATA_SERVICE_SECRET_PREVIOUS"}
    env["SATUDATA_SERVICE_SECRET"] = secret
    if previous:
        env["SATUDATA_SERVICE_SECRET_PREVIOUS"] = previous
    p.procs.env = env  # read when a process starts; the running ones keep their own
    await asyncio.to_thread(p.restart, name)


async def _platform_answers(p, period: int) -> None:
    """A village row accepted, applied and readable, and search answering, via the gateway."""
    row = {"region": p.keys["SATUDATA_DESA_CODE"], "period": str(period),
           "jenis_kelamin": "L", "jumlah": period % 1000}
    async with p.client() as c:
        r = await c.post("/v1/submissions", json={"dataset": "jumlah-penduduk", "rows": [row]},
                         headers=p.auth("DESA"))
        assert r.status_code == 202, r.text
        url = r.json()["status_url"]

        async def completed():
            got = await c.get(url, headers=p.auth("DESA"))
            assert got.status_code == 200, got.text
            return got.json()["status"] == "completed"
        await eventually(completed, timeout=60, interval=0.3)
        records = await c.get("/v1/datasets/jumlah-penduduk/records",
                              params={"period": str(period), "limit": 10})
        assert records.status_code == 200, records.text
        search = await c.get("/v1/search", params={"q": "penduduk"})
        assert search.status_code == 200, search.text


async def test_signing_secret_rotates_one_service_at_a_time_without_refused_calls(
        pg_server_url, nats_url, nats_service_urls):
    p = await start_platform(pg_server_url, nats_url, nats_urls=nats_service_urls,
                             extra_env={"SATUDATA_SERVICE_SECRET": OLD})
    base_env = dict(p.procs.env)
    period = 3100
    try:
        for service in PROBES:  # before: the new secret is nobody's yet
            assert not await _signature_refused(p, service, OLD)
            assert await _signature_refused(p, service, NEW)
        await _platform_answers(p, period)
        for secret, previous in ((OLD, NEW), (NEW, OLD), (NEW, "")):
            for name in ORDER:
                await _roll(p, base_env, name, secret, previous)
                period += 1
                await _platform_answers(p, period)
            if previous:  # the step done everywhere: both secrets valid on every service
                for service in PROBES:
                    for either in (OLD, NEW):
                        assert not await _signature_refused(p, service, either), (service, either)
        for service in PROBES:  # after: the old secret is refused everywhere
            assert not await _signature_refused(p, service, NEW)
            assert await _signature_refused(p, service, OLD)
    finally:
        await stop_platform(p)
