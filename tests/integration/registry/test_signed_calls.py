"""Services trust only a signature: a forged principal from inside the network mints nothing."""

from __future__ import annotations

import json
import os
import time

import httpx

from shared.signing import signed_headers
from tests.integration.registry.conftest import principal_headers

ADMIN = principal_headers(publisher_id="walidata", role="admin")
KEY = {"publisher_id": "walidata", "role": "walidata", "label": "penyerang"}


async def _keys(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM registry.api_keys")


def _signed(method: str, target: str, body: bytes, secret: str | None = None,
            now: float | None = None) -> dict:
    headers = {**ADMIN, "content-type": "application/json"}
    headers.update(signed_headers(secret or os.environ["SATUDATA_SERVICE_SECRET"], "gateway",
                                  method, target, body, ADMIN["X-Satudata-Principal"], now=now))
    return headers


async def test_unsigned_forged_stale_or_altered_calls_are_refused_and_mint_no_key(registry):
    before = await _keys(registry["pool"])
    body = json.dumps(KEY).encode()
    async with httpx.AsyncClient(base_url=registry["url"]) as raw:
        unsigned = await raw.post("/v1/keys", content=body, headers=ADMIN)
        forged = await raw.post("/v1/keys", content=body,
                                headers=_signed("POST", "/v1/keys", body, secret="tebakan"))
        stale = await raw.post("/v1/keys", content=body, headers=_signed(
            "POST", "/v1/keys", body, now=time.time() - 31))
        altered = await raw.post("/v1/keys", content=body.replace(b"penyerang", b"penyusup"),
                                 headers=_signed("POST", "/v1/keys", body))
        other_path = await raw.post("/v1/keys/x/revoke", content=body,
                                    headers=_signed("POST", "/v1/keys", body))
        health = await raw.get("/healthz")
    for answer, code in ((unsigned, "unsigned_call"), (forged, "invalid_signature"),
                         (stale, "stale_signature"), (altered, "signature_mismatch"),
                         (other_path, "invalid_signature")):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == code
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert await _keys(registry["pool"]) == before


async def test_a_replayed_signed_call_is_refused(registry):
    before = await _keys(registry["pool"])
    body = json.dumps(KEY).encode()
    headers = _signed("POST", "/v1/keys", body)
    async with httpx.AsyncClient(base_url=registry["url"]) as raw:
        first = await raw.post("/v1/keys", content=body, headers=headers)
        again = await raw.post("/v1/keys", content=body, headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 401 and again.json()["error"]["code"] == "replayed_call"
    assert await _keys(registry["pool"]) == before + 1


async def test_the_previous_secret_still_verifies_during_a_rotation(registry_db, database_url,
                                                                    nats_url, nats_namespace):
    from services.registry.app import create_app
    from services.registry.settings import RegistrySettings
    from tests.helpers import served

    settings = RegistrySettings(database_url=database_url, nats_url=nats_url,
                                nats_namespace=nats_namespace, service_secret="neu" * 12,
                                service_secret_previous="alt" * 12)
    async with served(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as raw:
        for secret in ("neu" * 12, "alt" * 12):
            r = await raw.get("/v1/keys", headers=_signed("GET", "/v1/keys", b"", secret))
            assert r.status_code == 200, r.text
        r = await raw.get("/v1/keys", headers=_signed("GET", "/v1/keys", b"", "lain" * 9))
        assert r.status_code == 401


async def test_a_key_role_must_fit_its_publishers_kind(registry, client):
    before = await _keys(registry["pool"])
    desa = await registry["pool"].fetchval(
        "SELECT id FROM registry.publishers WHERE kind = 'desa' LIMIT 1")
    r = await client.post("/v1/keys", json={"publisher_id": desa, "role": "walidata"},
                          headers=ADMIN)
    assert r.status_code == 422 and r.json()["error"]["code"] == "role_does_not_fit_publisher"
    assert await _keys(registry["pool"]) == before
    ok = await client.post("/v1/keys", json={"publisher_id": desa, "role": "publisher"},
                           headers=ADMIN)
    assert ok.status_code == 201


async def test_malformed_signature_headers_are_refused_with_401_never_500(registry):
    before = await _keys(registry["pool"])
    body = json.dumps(KEY).encode()
    good = _signed("POST", "/v1/keys", body)
    variants = {"X-Satudata-Time": ["²", "9" * 5000, "-5", "1.5", "١٢٣٤٥٦"],
                "X-Satudata-Signature": ["v1=\u00e9\u00e9", "v1="],
                "X-Satudata-Body-SHA256": ["x"]}
    async with httpx.AsyncClient(base_url=registry["url"]) as raw:
        for name, values in variants.items():
            for value in values:
                headers = {**good, name: value.encode("utf-8")}
                r = await raw.post("/v1/keys", content=body, headers=headers)
                assert r.status_code == 401, (name, value, r.status_code, r.text)
    assert await _keys(registry["pool"]) == before
