"""Through the gateway: a key revoked with a walidata key leaves an audit entry
naming who did it and from which address (forwarded inside the signed principal)."""

import httpx



async def test_revoking_a_key_through_the_gateway_is_audited_with_who_and_where(stack):  # noqa: F811
    walidata = {"Authorization": f"Bearer {stack['summary']['keys']['SATUDATA_KEY_WALIDATA']}"}
    publisher = {"X-API-Key": stack["summary"]["keys"]["SATUDATA_KEY_DESA"]}
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        made = await client.post("/v1/keys", headers=walidata,
                                 json={"publisher_id": "disdukcapil", "label": "dicabut"})
        assert made.status_code == 201, made.text
        key_id = made.json()["id"]
        r = await client.post(f"/v1/keys/{key_id}/revoke", headers=walidata)
        assert r.status_code == 200, r.text
        log = await client.get("/v1/audit", headers=walidata,
                               params={"action": "key.revoke", "target": key_id})
        assert log.status_code == 200, log.text
        [entry] = log.json()["items"]
        assert entry["actor"] == "walidata" and entry["role"] == "walidata"
        assert entry["key_id"] and entry["client_addr"] == "127.0.0.1"
        assert (await client.get("/v1/audit", headers=publisher)).status_code == 403
        assert (await client.get("/v1/audit")).status_code == 401


async def test_receipt_keys_are_served_publicly_from_ingest_through_the_gateway(nats_url,
                                                                                nats_namespace):
    from fastapi import FastAPI, Request

    from services.gateway.app import create_app
    from shared.receipts import Signer, generate_pem, load_private
    from shared.signing import SIGNATURE_HEADER
    from tests.integration.gateway.conftest import gateway_settings, serve

    signer = Signer(load_private(generate_pem()))
    ingest = FastAPI()
    seen = []

    @ingest.get("/.well-known/satudata-keys.json")
    async def keys(request: Request):
        seen.append(request.headers.get(SIGNATURE_HEADER))
        return signer.keys_document()

    async with serve(ingest) as upstream:
        settings = gateway_settings(upstream, nats_url, nats_namespace)
        async with serve(create_app(settings)) as url:
            async with httpx.AsyncClient(base_url=url) as client:
                r = await client.get("/.well-known/satudata-keys.json")
    assert r.status_code == 200, r.text
    assert r.json()["keys"][0]["kid"] == signer.key_id
    assert r.headers["cache-control"].startswith("public")
    assert seen and seen[0]  # the gateway signs its call to ingest, as for every route
