"""What a client sends decides nothing it should not: forwarded addresses, the Host header, a
path written in percent escapes, slow headers, made-up paths. The platform as `make up` runs
it (uvicorn with --no-proxy-headers and the header deadline), through the gateway.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
import uuid

import asyncpg
import httpx
import pytest

from tests.e2e.harness import start_platform, stop_platform

pytestmark = [pytest.mark.e2e]
HEADER_TIMEOUT = 2


@pytest.fixture(scope="module")
async def platform(pg_server_url, nats_url, nats_service_urls):
    running = await start_platform(pg_server_url, nats_url, nats_urls=nats_service_urls,
                                   extra_env={"SATUDATA_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
                                              "GATEWAY_RATE_LIMIT_ADDRESS": "40/minute"})
    yield running
    await stop_platform(running)


def _internal(p) -> list[str]:
    return [f":{port}" for name, port in p.ports.items() if name != "gateway"]


async def test_a_forwarded_for_header_changes_neither_the_audit_address_nor_the_lockout(platform):
    p = platform
    spoofed = "203.0.113.99"
    async with p.client() as c:
        r = await c.post("/v1/keys", headers={**p.auth("WALIDATA"), "X-Forwarded-For": spoofed},
                         json={"publisher_id": "disdukcapil", "label": "alamat"})
        assert r.status_code == 201, r.text
        audit = (await c.get("/v1/audit", headers=p.auth("WALIDATA"),
                             params={"action": "key.create", "limit": 1})).json()["items"][0]
    assert audit["client_addr"] == "127.0.0.1", audit


async def test_the_host_header_changes_no_public_url_and_no_answer_names_a_service(platform):
    p = platform
    evil = {"Host": "penipu.example"}
    async with p.client() as c:
        answers = {
            "dcat": await c.get("/catalog.jsonld", headers=evil),
            "ckan": await c.get("/api/3/action/package_show", params={"id": "jumlah-penduduk"},
                                headers=evil),
            "ckan_error": await c.get("/api/3/action/package_show", params={"id": "tidak-ada"},
                                      headers=evil),
            "ckan_write_error": await c.post("/api/3/action/datastore_upsert",
                                             headers={**evil, **p.auth("DESA")},
                                             json={"resource_id": "tidak-ada", "records": []}),
            "portal": await c.get("/dataset/jumlah-penduduk", headers=evil),
            "sitemap": await c.get("/sitemap.xml", headers=evil),
            "trailing_slash": await c.get("/v1/datasets/", headers=evil),
            "registry_slash": await c.get("/v1/regions/64.08/"),
        }
    for name, r in answers.items():
        text = r.text + " ".join(f"{k}: {v}" for k, v in r.headers.items())
        assert "penipu.example" not in text, (name, text[:400])
        assert not any(a in text for a in _internal(p)), (name, text[:400])
    assert answers["trailing_slash"].status_code == 308
    assert answers["trailing_slash"].headers["location"] == "/v1/datasets"
    assert p.gateway.split("//")[1] in answers["dcat"].text  # the gateway's own address


async def test_a_path_written_in_escapes_is_not_served_as_another(platform):
    p = platform
    async with p.client() as c:
        escaped = await c.get("/v1/regions/alias%65s")
        plain = await c.get("/v1/regions/aliases")
    assert escaped.status_code == 404, escaped.text
    assert plain.status_code == 401  # the steward-only list it would have reached


async def test_a_request_whose_headers_trickle_is_closed_after_the_deadline(platform):
    p = platform
    port = p.ports["gateway"]

    def slow_clients(n: int) -> list[bool]:
        socks = []
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /v1/datasets HTTP/1.1\r\nHost: localhost\r\nX-Lambat: ")
            socks.append(s)
        time.sleep(HEADER_TIMEOUT + 2)
        closed = []
        for s in socks:
            try:
                s.settimeout(3)
                closed.append(s.recv(1) == b"")
            except (ConnectionResetError, BrokenPipeError):
                closed.append(True)
            except socket.timeout:
                closed.append(False)
            finally:
                s.close()
        return closed

    closed = await asyncio.to_thread(slow_clients, 50)
    assert all(closed), f"{closed.count(False)} of 50 still open"
    async with p.client() as c:  # and the gateway answers others meanwhile and after
        assert (await c.get("/v1/datasets", headers=p.auth("DESA"))).status_code == 200


async def test_made_up_paths_add_no_metric_series(platform):
    p = platform
    async with p.client() as c:
        before = (await c.get("/metrics")).text
        for _ in range(300):  # the address limit answers most of them 429
            await c.get(f"/v1/{uuid.uuid4().hex}/{uuid.uuid4().hex}")
        after = (await c.get("/metrics")).text
    labels = lambda text: set(re.findall(r'route="([^"]*)"', text))  # noqa: E731
    assert len(labels(after) - labels(before)) <= 2, labels(after) - labels(before)
    assert len(after) < len(before) + 20_000


async def test_each_service_holds_only_its_own_credentials(platform):
    """Least privilege: a service process's environment names its own database role and NATS
    user, never the superuser's URL or another service's password."""
    import psutil

    p = platform
    for name in ("registry", "ingest", "search", "gateway"):
        env = psutil.Process(p.procs.procs[name].pid).environ()
        assert "DATABASE_URL" not in env and "NATS_URL" not in env, name
        others = [o for o in ("registry", "ingest", "search") if o != name]
        for other in others + (["gateway"] if name != "gateway" else []):
            assert f"{other.upper()}_DATABASE_URL" not in env, (name, other)
            assert f"{other.upper()}_NATS_URL" not in env, (name, other)
            # it cannot sign as another service: it holds no other's signing key
            assert not any(k.startswith(f"{other.upper()}_SIGNING_KEY") for k in env), (
                name, other)
        assert any(k.startswith(f"{name.upper()}_SIGNING_KEY") for k in env), name
    conn = await asyncpg.connect(p.database_url)
    await conn.close()
