"""The verification queue through the gateway with real keys, and its portal page."""

from __future__ import annotations

import httpx

from tests.integration.gateway.test_with_registry import SLUG


async def test_queue_is_keyed_decisions_are_the_walidatas_page_served(stack):  # noqa: F811
    walidata = {"Authorization": f"Bearer {stack['summary']['keys']['SATUDATA_KEY_WALIDATA']}"}
    desa = {"X-API-Key": stack["summary"]["keys"]["SATUDATA_KEY_DESA"]}
    async with httpx.AsyncClient(base_url=stack["url"], timeout=10) as client:
        assert (await client.get("/v1/verification")).status_code == 401
        r = await client.put(f"/v1/datasets/{SLUG}/verification-policy", headers=walidata,
                             json={"policy": "verifikasi"})
        assert r.status_code == 200 and r.json()["policy"] == "verifikasi"
        r = await client.put(f"/v1/datasets/{SLUG}/verification-policy", headers=desa,
                             json={"policy": "langsung"})
        assert r.status_code == 403
        assert (await client.get("/v1/verification", headers=desa)).json()["items"] == []
        assert (await client.get("/v1/verification", headers=walidata)).status_code == 200
        r = await client.post("/v1/verification/verify", headers=desa, json={"dataset": SLUG})
        assert r.status_code == 403
        page = await client.get("/verifikasi")
        assert page.status_code == 200 and "/v1/verification" in (
            await client.get("/portal/verifikasi.js")).text
        assert "Verifikasi data" in page.text
