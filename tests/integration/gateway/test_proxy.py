"""Proxy behaviour against a stand-in for the services (served by uvicorn)."""

from __future__ import annotations

import asyncio
import re

import httpx

from services.gateway.app import create_app
from shared.auth import Principal
from tests.helpers import eventually
from tests.integration.gateway.conftest import PRINCIPALS, free_port, gateway_settings, serve

PUB = {"Authorization": "Bearer publisher-key-1"}
WALI = {"X-API-Key": "walidata-key-1"}


async def test_public_get_needs_no_key_and_carries_request_id(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        r = await client.get("/v1/aggregates?dataset=x", headers={"X-Request-ID": "abc-123"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "abc-123"
    assert r.json()["request_id"] == "abc-123"
    assert r.json()["seen"]["query"] == "dataset=x"
    assert r.json()["principal"] is None


async def test_client_sent_principal_header_is_stripped_and_resolved_one_forwarded(
        gateway, standin):
    forged = Principal(key_id="x", publisher_id="evil", publisher_name="Evil", role="admin",
                       region_scope="64", datasets=["*"]).encode()
    async with httpx.AsyncClient(base_url=gateway) as client:
        anon = await client.get("/v1/aggregates", headers={"X-Satudata-Principal": forged})
        keyed = await client.post("/v1/submissions", json={"rows": []},
                                  headers={**PUB, "X-Satudata-Principal": forged})
    assert anon.json()["principal"] is None
    assert keyed.status_code == 200
    # the gateway adds the client's address (for the audit log), nothing else
    assert Principal.decode(keyed.json()["principal"]) == PRINCIPALS["publisher-key-1"] \
        .model_copy(update={"client_addr": "127.0.0.1"})


async def test_writes_need_a_key_and_ckan_style_bare_key_is_accepted(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        missing = await client.post("/v1/submissions", json={})
        bad = await client.post("/v1/submissions", json={}, headers={"Authorization": "nope-1234"})
        bare = await client.post("/v1/submissions", json={},
                                 headers={"Authorization": "publisher-key-1"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_api_key"
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"
    assert bare.status_code == 200


async def test_steward_routes_refuse_publisher_keys(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        pub_define = await client.post("/v1/datasets", json={}, headers=PUB)
        pub_conflicts = await client.get("/v1/conflicts", headers=PUB)
        anon_conflicts = await client.get("/v1/conflicts")
        wali = await client.post("/v1/datasets", json={}, headers=WALI)
    assert pub_define.status_code == 403
    assert pub_define.json()["error"]["code"] == "steward_only"
    assert pub_conflicts.status_code == 200  # the registry shows a publisher its own conflicts
    assert anon_conflicts.status_code == 401
    assert wali.status_code == 200
    assert standin.calls.get("POST /v1/datasets") == 1


async def test_revoked_key_is_refused_once_the_cache_ttl_passes(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        assert (await client.post("/v1/submissions", json={}, headers=PUB)).status_code == 200
        standin.revoked.add("publisher-key-1")

        async def refused():
            r = await client.post("/v1/submissions", json={}, headers=PUB)
            return r.status_code == 401 and r.json()["error"]["code"] == "revoked_api_key"

        await eventually(refused, timeout=3)


async def test_key_resolutions_are_cached(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        for _ in range(5):
            await client.post("/v1/submissions", json={}, headers=PUB)
    assert standin.calls["resolve"] == 1


async def test_internal_and_unknown_routes_are_never_proxied(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        internal = await client.get("/internal/v1/secret")
        sneaky = await client.get("/v1/../internal/v1/secret")
        unknown = await client.get("/v1/nothing-here")
    assert internal.status_code == 404
    assert sneaky.status_code == 404
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "route_not_found"


async def test_upstream_4xx_body_passes_through_unchanged(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        r = await client.get("/v1/records/missing")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "record_not_found", "message": "Rekaman tidak ada.",
                                  "details": [{"id": "missing"}]}}


async def test_upstream_crash_is_502_without_traceback(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        r = await client.get("/v1/records/boom")
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_error"
    assert "Traceback" not in r.text and "secret" not in r.text


async def test_slow_upstream_gives_504(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        r = await client.get("/v1/regions/slow")
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "upstream_timeout"


async def test_down_upstream_gives_503(standin, nats_url, nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace,
                                ingest_url=f"http://127.0.0.1:{free_port()}")
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        r = await client.post("/v1/submissions", json={}, headers=PUB)
        ready = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "upstream_unavailable"
    assert ready.status_code == 503
    assert ready.json()["checks"]["registry"] == "ok"
    assert ready.json()["checks"]["ingest"].startswith("error")


async def test_only_gets_are_retried(gateway, standin):
    standin.flaky_left = 2
    async with httpx.AsyncClient(base_url=gateway) as client:
        got = await client.get("/v1/publishers")
        posted = await client.post("/v1/submissions/flaky", json={}, headers=PUB)
    assert got.status_code == 200
    assert standin.calls["GET /v1/publishers"] == 3
    assert posted.status_code == 503
    assert standin.calls["POST /v1/submissions/flaky"] == 1


async def test_etag_and_304_on_public_gets(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        first = await client.get("/v1/publishers")
        etag = first.headers["etag"]
        again = await client.get("/v1/publishers", headers={"If-None-Match": etag})
        other = await client.get("/v1/publishers", headers={"If-None-Match": 'W/"stale"'})
    assert "max-age" in first.headers["cache-control"]
    assert again.status_code == 304
    assert again.content == b"" and again.headers["etag"] == etag
    assert other.status_code == 200


async def test_rate_limit_gives_429_with_headers(standin, nats_url, nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace,
                                rate_limit_address="3/minute", rate_limit_key="5/minute")
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        answers = [await client.get("/v1/aggregates") for _ in range(4)]
        keyed = await client.get("/v1/aggregates", headers=PUB)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert answers[0].headers["ratelimit-remaining"] == "2"
    assert answers[3].json()["error"]["code"] == "rate_limited"
    assert int(answers[3].headers["retry-after"]) >= 1
    assert keyed.status_code == 200 and keyed.headers["ratelimit-limit"] == "5"


async def test_body_larger_than_limit_gives_413(standin, nats_url, nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace, max_body_bytes=1000)
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        declared = await client.post("/v1/submissions", content=b"x" * 5000, headers=PUB)

        async def chunks():
            for _ in range(10):
                yield b"y" * 500

        streamed = await client.post("/v1/submissions", content=chunks(), headers=PUB)
        small = await client.post("/v1/submissions", content=b"z" * 500, headers=PUB)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"
    assert streamed.status_code == 413
    assert small.status_code == 200 and small.json()["seen"]["body_size"] == 500


async def test_gzip_for_large_json(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        r = await client.get("/v1/aggregates", params={"pad": "x" * 4000},
                             headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("content-encoding") == "gzip"
    assert r.json()["seen"]["query"].startswith("pad=")


async def test_merged_openapi_drops_internal_and_health_routes(gateway):
    async with httpx.AsyncClient(base_url=gateway) as client:
        doc = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
        asset = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert "/v1/search" in doc["paths"] and "/v1/events" in doc["paths"]
    assert not any(p.startswith(("/internal", "/healthz", "/readyz")) for p in doc["paths"])
    assert "/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert asset.status_code == 200
    scripts = re.findall(r"<script[^>]*>", docs.text)
    assert scripts and all("src=" in tag for tag in scripts)  # no inline script (CSP)
    assert re.search(r"<script[^>]*>\s*[^<\s]", docs.text) is None


async def test_cors_when_configured(standin, nats_url, nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace,
                                cors_origins=["https://data.kutaitimurkab.go.id"])
    async with serve(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        r = await client.options("/v1/aggregates", headers={
            "Origin": "https://data.kutaitimurkab.go.id", "Access-Control-Request-Method": "GET"})
        other = await client.get("/v1/aggregates", headers={"Origin": "https://evil.example"})
    assert r.headers["access-control-allow-origin"] == "https://data.kutaitimurkab.go.id"
    assert "access-control-allow-origin" not in other.headers


async def test_concurrent_requests_share_pooled_clients(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        answers = await asyncio.gather(*(client.get("/v1/aggregates") for _ in range(50)))
    assert all(a.status_code == 200 for a in answers)


async def test_ckan_datastore_upsert_with_bare_key_reaches_ingest(gateway, standin):
    async with httpx.AsyncClient(base_url=gateway) as client:
        classic = await client.post("/api/action/datastore_upsert", json={"records": []},
                                    headers={"Authorization": "publisher-key-1"})
        versioned = await client.post("/api/3/action/datastore_upsert", json={},
                                      headers={"X-CKAN-API-Key": "x"})
        unknown = await client.post("/api/3/action/package_delete", json={},
                                    headers={"Authorization": "publisher-key-1"})
    assert classic.status_code == 200
    assert classic.json()["seen"]["path"] == "/api/3/action/datastore_upsert"
    assert Principal.decode(classic.json()["principal"]).publisher_id == "desa-1"
    assert versioned.status_code == 401
    assert versioned.json()["error"]["code"] == "invalid_api_key"
    assert versioned.json()["error"]["__type"] == "Authorization Error"
    assert unknown.status_code == 400  # as CKAN answers an action it does not know
    assert unknown.json()["error"]["__type"] == "Bad request - Action name not known"


async def test_exports_stream_with_flat_memory(gateway, standin):
    """10 MB of CSV and 80,000 JSON records (13 MB) pass through while the peak traced memory
    of the process (gateway, stand-in and client together) stays well under the body size;
    it plateaus (the same at 160,000 records), so a buffered export would show."""
    import tracemalloc

    from tests.integration.gateway.conftest import BIG_CSV_CHUNKS, BIG_JSON_PAGES

    async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
        tracemalloc.start()
        try:
            size = 0
            async with client.stream("GET", "/v1/datasets/big/records",
                                     params={"format": "csv"}) as r:
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
            _, csv_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            records, token, tail = 0, b'"region_code"', b""
            async with client.stream("GET", "/v1/datasets/big/records",
                                     params={"format": "json"}) as r:
                async for chunk in r.aiter_bytes():  # a token may span two chunks
                    records += (tail + chunk).count(token)
                    tail = chunk[-(len(token) - 1):]
            _, json_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert size == BIG_CSV_CHUNKS * 1000 * 49  # 49-byte rows
    assert records == BIG_JSON_PAGES * 1000
    assert csv_peak < 4 * 1024 * 1024, csv_peak
    assert json_peak < 10 * 1024 * 1024, json_peak


async def test_gateways_own_errors_on_api_paths_take_ckans_envelope(standin, nats_url,
                                                                       nats_namespace):
    """ckanapi raises its typed errors for the gateway's own 401, 405, 413 and 429."""
    import ckanapi

    settings = gateway_settings(standin.url, nats_url, nats_namespace, max_body_bytes=2000,
                                rate_limit_address="3/minute")
    async with serve(create_app(settings)) as url:
        def drive():
            raised = {}
            bad_key = ckanapi.RemoteCKAN(url, apikey="bukan-kunci")
            for name, call in [
                    ("401 read", lambda: bad_key.action.package_list()),
                    ("401 write", lambda: bad_key.action.datastore_upsert(
                        resource_id="jumlah-penduduk", records=[{"a": 1}])),
                    ("413", lambda: ckanapi.RemoteCKAN(url, apikey="publisher-key-1")
                     .action.datastore_upsert(resource_id="jumlah-penduduk",
                                              records=[{"a": "x" * 3000}]))]:
                try:
                    call()
                except ckanapi.CKANAPIError as exc:
                    raised[name] = exc
            return raised

        raised = await asyncio.to_thread(drive)
        async with httpx.AsyncClient(base_url=url) as client:
            wrong_method = await client.put("/api/3/action/package_list")
            limited = [await client.get("/api/3/action/unknown_action") for _ in range(3)]
    assert isinstance(raised["401 read"], ckanapi.NotAuthorized)
    assert isinstance(raised["401 write"], ckanapi.NotAuthorized)
    assert isinstance(raised["413"], ckanapi.ValidationError)
    assert raised["413"].error_dict["code"] == "payload_too_large"
    assert wrong_method.status_code == 405 and wrong_method.json()["success"] is False
    assert wrong_method.json()["error"]["__type"] == "Validation Error"
    assert limited[-1].status_code == 429
    body = limited[-1].json()
    assert body["success"] is False and body["error"]["code"] == "rate_limited"
    assert body["help"].endswith("name=unknown_action")
    assert limited[-1].headers["retry-after"]
    assert limited[0].status_code == 400
    assert limited[0].json()["error"]["__type"] == "Bad request - Action name not known"


async def test_a_service_refusing_the_gateways_signature_is_502_not_the_callers_401(
        nats_url, nats_namespace):
    """A service that does not know the gateway's key is the operator's mistake: the public
    caller gets a 502 (upstream_error), never a 401 that tells a village its key is wrong."""
    from fastapi import FastAPI
    from shared.signing import Keyring, SignatureMiddleware, SigningKey

    upstream = FastAPI()

    @upstream.get("/v1/regions")
    async def regions():
        return {"items": [], "next_cursor": None}

    upstream.add_middleware(SignatureMiddleware, keyring=Keyring(
        {"gateway": [SigningKey.generate("gateway").public()]}))  # another gateway's key
    async with serve(upstream) as up_url:
        settings = gateway_settings(up_url, nats_url, nats_namespace)
        async with serve(create_app(settings)) as url:
            async with httpx.AsyncClient(base_url=url) as client:
                r = await client.get("/v1/regions")
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_error"
    assert "signature" not in r.text.lower()
