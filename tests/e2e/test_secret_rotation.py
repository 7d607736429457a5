"""A service's signing key rotated with the services running (docs/runbooks/rotation.md), here
the gateway's, the key every other service checks.

Each service is restarted on its own, one at a time, through the three steps of the runbook:
1. every receiver lists the gateway's old and new public keys (``SATUDATA_SIGNING_PUBLIC_KEYS``),
2. the gateway signs with its new private key,
3. the receivers drop the old public key.
After every single restart (services on different steps, as replicas are during a rollout) a
village submission goes through the gateway to ingest and the registry, and records and search
answer through the gateway: no call is refused. Before the change a call signed with the new
key is refused, after it one signed with the old key is.
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid

import httpx
import pytest

from shared.signing import SigningKey, signed_headers
from tests.e2e.harness import start_platform, stop_platform
from tests.helpers import eventually, signing_key

pytestmark = [pytest.mark.e2e]

RECEIVERS = ("ingest", "search", "registry")
# a signed GET on each service; what it answers past the signature check does not matter here
PROBES = {"registry": "/v1/datasets", "search": "/v1/search?q=penduduk",
          "ingest": f"/v1/submissions/{uuid.UUID(int=0)}"}


async def _signature_refused(p, service: str, key: SigningKey) -> bool:
    """Whether the service refuses a call signed with this key for its signature (a 401
    for anything else, such as ingest wanting an API key, is past the signature check)."""
    path = PROBES[service]
    async with httpx.AsyncClient(base_url=p.url(service), timeout=10) as raw:
        r = await raw.get(path, headers=signed_headers(key, "GET", path, b""))
    return r.status_code == 401 and r.json()["error"]["code"] == "invalid_signature"


async def _roll(p, name: str, **env) -> None:
    """Restart one service with these settings; the others keep what they run with."""
    await asyncio.to_thread(p.procs.kill, name, signal.SIGTERM)
    p.procs.env = {**p.procs.env, **env}  # read when a process starts
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


async def test_the_gateways_signing_key_rotates_one_service_at_a_time_without_refused_calls(
        pg_server_url, nats_url, nats_service_urls):
    p = await start_platform(pg_server_url, nats_url, nats_urls=nats_service_urls)
    old, new = signing_key("gateway"), SigningKey.generate("gateway")
    keyring = json.loads(p.procs.env["SATUDATA_SIGNING_PUBLIC_KEYS"])
    both = json.dumps({**keyring, "gateway": [old.public(), new.public()]})
    only_new = json.dumps({**keyring, "gateway": [new.public()]})
    period = 3100
    try:
        for service in PROBES:  # before: the new key is nobody's yet
            assert not await _signature_refused(p, service, old)
            assert await _signature_refused(p, service, new)
        await _platform_answers(p, period)
        steps = [(name, {"SATUDATA_SIGNING_PUBLIC_KEYS": both}) for name in RECEIVERS]
        steps += [("gateway", {"GATEWAY_SIGNING_KEY": new.seed(),
                               "SATUDATA_SIGNING_PUBLIC_KEYS": both})]
        steps += [(name, {"SATUDATA_SIGNING_PUBLIC_KEYS": only_new}) for name in RECEIVERS]
        for step, (name, env) in enumerate(steps):
            await _roll(p, name, **env)
            period += 1
            await _platform_answers(p, period)
            if step == len(RECEIVERS) - 1:  # step 1 done everywhere: both keys valid
                for service in PROBES:
                    for either in (old, new):
                        assert not await _signature_refused(p, service, either), service
        for service in PROBES:  # after: the old key is refused everywhere
            assert not await _signature_refused(p, service, new)
            assert await _signature_refused(p, service, old)
    finally:
        await stop_platform(p)
