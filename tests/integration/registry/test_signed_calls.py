"""Services trust only a signature: a forged principal from inside the network mints nothing."""

from __future__ import annotations

import json
import os
import time

import httpx

from shared.auth import PROOF_HEADER
from shared.signing import SigningKey, principal_proof, signed_headers
from tests.helpers import signing_key
from tests.integration.registry.conftest import principal_headers

ADMIN = principal_headers(publisher_id="walidata", role="admin")
KEY = {"publisher_id": "walidata", "role": "walidata", "label": "penyerang"}


async def _keys(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM registry.api_keys")


def _signed(method: str, target: str, body: bytes, key: SigningKey | None = None,
            now: float | None = None, proof: str = "") -> dict:
    headers = {**ADMIN, "content-type": "application/json",
               **({PROOF_HEADER: proof} if proof else {})}
    headers.update(signed_headers(key or signing_key("gateway"), method, target, body,
                                  ADMIN["X-Satudata-Principal"], proof, now=now))
    return headers


async def test_unsigned_forged_stale_or_altered_calls_are_refused_and_mint_no_key(registry):
    before = await _keys(registry["pool"])
    body = json.dumps(KEY).encode()
    async with httpx.AsyncClient(base_url=registry["url"]) as raw:
        unsigned = await raw.post("/v1/keys", content=body, headers=ADMIN)
        forged = await raw.post("/v1/keys", content=body, headers=_signed(
            "POST", "/v1/keys", body, key=SigningKey.generate("gateway")))  # not its key
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


async def test_a_rotating_service_is_verified_by_its_old_and_new_key(registry_db, database_url,
                                                                    nats_url, nats_namespace):
    from services.registry.app import create_app
    from services.registry.settings import RegistrySettings
    from tests.helpers import served

    old, new = signing_key("gateway"), SigningKey.generate("gateway")
    keyring = json.loads(os.environ["SATUDATA_SIGNING_PUBLIC_KEYS"])
    keyring["gateway"] = [old.public(), new.public()]  # both listed during the change
    settings = RegistrySettings(database_url=database_url, nats_url=nats_url,
                                nats_namespace=nats_namespace,
                                signing_public_keys=json.dumps(keyring))
    async with served(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as raw:
        for key in (old, new):
            r = await raw.get("/v1/keys", headers=_signed("GET", "/v1/keys", b"", key))
            assert r.status_code == 200, r.text
        r = await raw.get("/v1/keys", headers=_signed("GET", "/v1/keys", b"",
                                                      SigningKey.generate("gateway")))
        assert r.status_code == 401


async def test_a_service_can_sign_only_as_itself_and_only_the_gateway_vouches_for_a_user(
        registry):
    """Ingest's key signs as ingest: it cannot pass for the gateway, nor carry a user's
    principal the gateway did not prove; search cannot either."""
    before = await _keys(registry["pool"])
    body = json.dumps(KEY).encode()
    ingest, search = signing_key("ingest"), signing_key("search")
    async with httpx.AsyncClient(base_url=registry["url"]) as raw:
        as_gateway = await raw.post("/v1/keys", content=body, headers={
            **_signed("POST", "/v1/keys", body, ingest), "X-Satudata-Service": "gateway"})
        unproven = await raw.post("/v1/keys", content=body,
                                  headers=_signed("POST", "/v1/keys", body, ingest))
        self_proven = await raw.post("/v1/keys", content=body, headers=_signed(
            "POST", "/v1/keys", body, ingest, proof=principal_proof(
                SigningKey("gateway", ingest.private), ADMIN["X-Satudata-Principal"])))
        by_search = await raw.post("/v1/keys", content=body,
                                   headers=_signed("POST", "/v1/keys", body, search))
        # with the gateway's proof, ingest may act for the user within that request
        proven = await raw.post("/v1/keys", content=body, headers=_signed(
            "POST", "/v1/keys", body, ingest, proof=principal_proof(
                signing_key("gateway"), ADMIN["X-Satudata-Principal"])))
    assert (as_gateway.status_code, as_gateway.json()["error"]["code"]) == (
        401, "invalid_signature")
    for answer in (unproven, self_proven, by_search):
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"]["code"] == "principal_not_proven"
    assert proven.status_code == 201, proven.text
    assert await _keys(registry["pool"]) == before + 1


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
                "X-Satudata-Signature": ["ed25519=\u00e9\u00e9", "ed25519=", "ed25519=!!",
                                         "v1=abc"],
                "X-Satudata-Body-SHA256": ["x"]}
    async with httpx.AsyncClient(base_url=registry["url"]) as raw:
        for name, values in variants.items():
            for value in values:
                headers = {**good, name: value.encode("utf-8")}
                r = await raw.post("/v1/keys", content=body, headers=headers)
                assert r.status_code == 401, (name, value, r.status_code, r.text)
    assert await _keys(registry["pool"]) == before
