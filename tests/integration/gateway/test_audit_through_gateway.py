"""Issue 19 through the gateway: a key revoked with a walidata key leaves an audit entry
naming who did it and from which address (forwarded inside the signed principal)."""

import httpx

from tests.integration.gateway.test_with_registry import stack  # noqa: F401 - fixture


async def test_revoking_a_key_through_the_gateway_is_audited_with_who_and_where(stack):  # noqa: F811
    walidata = {"Authorization": f"Bearer {stack['keys']['SATUDATA_KEY_WALIDATA']}"}
    publisher = {"X-API-Key": stack["keys"]["SATUDATA_KEY_DESA"]}
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
