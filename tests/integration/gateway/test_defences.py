"""The gateway's own defences: one checked path, security headers, bodies that must arrive."""

from __future__ import annotations

import asyncio
import gzip
from urllib.parse import urlsplit

import httpx

from services.gateway.app import create_app
from tests.integration.gateway.conftest import gateway_settings, serve

PUB = {"Authorization": "Bearer publisher-key-1"}
WALI = {"Authorization": "Bearer walidata-key-1"}


async def raw_get(base: str, target: str) -> int:
    """A request line sent as is (httpx would remove the dot segments itself)."""
    url = urlsplit(base)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status = int((await reader.readline()).split()[1])
    writer.close()
    return status


async def test_dot_segments_and_encoded_slashes_are_refused_before_routing(gateway, standin):
    for target in ("/v1/datasets/x/../../../internal/v1/snapshot/records",
                   "/v1/datasets/x/%2e%2e/%2E%2E/internal/v1/secret",
                   "/v1/datasets/x%2f..%2f..%2finternal%2fv1%2fsecret",
                   "/v1/datasets/x/..%5c..%5cinternal",
                   "/v1/datasets/./a", "/v1/datasets//internal/v1/secret",
                   "/v1/datasets/a%00b", "/v1/datasets/a%0d%0ab"):
        assert await raw_get(gateway, target) == 404, target
    assert await raw_get(gateway, "/v1/datasets?q=a%20b") == 200
    assert not any("internal" in seen["path"] or ".." in seen["path"] for seen in standin.seen)
    assert "secret" not in standin.calls


async def test_security_headers_on_portal_docs_and_api(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        answers = [await client.get(p) for p in ("/", "/docs", "/v1/datasets", "/v1/nope")]
        docs = answers[1].text
        init = await client.get("/docs-assets/docs-init.js")
    for answer in answers:
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1]\
            .split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"]
    assert "<script>" not in docs and 'src="/docs-assets/docs-init.js"' in docs
    assert init.status_code == 200 and "SwaggerUIBundle" in init.text


async def test_gzip_submission_is_forwarded_with_its_encoding_and_length(gateway, standin):
    body = gzip.compress(b'{"rows": []}' * 100)
    async with httpx.AsyncClient(base_url=gateway) as client:
        r = await client.post("/v1/submissions", content=body,
                              headers={**PUB, "Content-Encoding": "gzip",
                                       "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    seen = standin.seen[-1]
    assert seen["headers"]["content-encoding"] == "gzip"
    assert seen["headers"]["content-length"] == str(len(body)) == str(seen["body_size"])


async def _slow_upload(base: str, headers: dict, seconds: float) -> int:
    async def trickle():
        for _ in range(int(seconds * 4)):
            yield b" "
            await asyncio.sleep(0.25)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        r = await client.post("/v1/submissions", content=trickle(), headers=headers)
    return r.status_code


async def test_slow_bodies_cannot_starve_other_publishers(standin, nats_url, nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace, body_timeout=1.5,
                                uploads_per_key=2, max_connections=8, pool_shards=1)
    async with serve(create_app(settings)) as url:
        slow = [asyncio.create_task(_slow_upload(url, PUB, 4)) for _ in range(2)]
        await asyncio.sleep(0.3)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            third = await client.post("/v1/submissions", json={"rows": []}, headers=PUB)
            other = await client.post("/v1/submissions", json={"rows": []}, headers=WALI)
        assert third.status_code == 429
        assert third.json()["error"]["code"] == "too_many_uploads"
        assert other.status_code == 200
        assert await asyncio.gather(*slow) == [408, 408]
        # the slots are given back
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            again = await client.post("/v1/submissions", json={"rows": []}, headers=PUB)
        assert again.status_code == 200
