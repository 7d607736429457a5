"""Date parameters through the gateway and the real registry: never a 5xx for a date."""

from __future__ import annotations

import httpx



async def test_as_of_takes_dates_as_people_write_them(stack):  # noqa: F811
    record = await stack["pool"].fetchval("SELECT id FROM records LIMIT 1")
    async with httpx.AsyncClient(base_url=stack["url"]) as client:
        for as_of in ["2026-11-28", "28-11-2026", "28/11/2026", "2026-11-28T10:00",
                      "2026-11-28T10:00:00+07:00"]:
            response = await client.get(f"/v1/records/{record}", params={"as_of": as_of})
            assert response.status_code in (200, 404), (as_of, response.text)
            if response.status_code == 404:
                assert response.json()["error"]["code"] == "record_not_yet_recorded"
        before = await client.get(f"/v1/records/{record}", params={"as_of": "31/12/1999"})
        after = await client.get(f"/v1/records/{record}", params={"as_of": "31-12-2999"})
    assert before.status_code == 404
    assert before.json()["error"]["code"] == "record_not_yet_recorded"
    assert after.status_code == 200 and after.json()["version"] >= 1
    assert after.json()["as_of"].startswith("2999-12-31T23:59:59.999999+08:00")


async def test_any_other_date_is_a_422_in_the_one_error_shape(stack):  # noqa: F811
    record = await stack["pool"].fetchval("SELECT id FROM records LIMIT 1")
    async with httpx.AsyncClient(base_url=stack["url"]) as client:
        for as_of in ["kemarin", "2026-02-30", "11/28/2026", ""]:
            response = await client.get(f"/v1/records/{record}", params={"as_of": as_of})
            assert response.status_code == 422, (as_of, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid_date" and error["details"][0]["field"] == "as_of"
            assert "Tanggal" in error["message"]
