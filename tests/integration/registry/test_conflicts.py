"""Disagreements between publishers: listed with both sides, accepted or rejected by walidata."""

import uuid

from services.registry.publishing import apply
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
DESA = "64.08.04.2001"
DESA_PUBLISHER = f"desa-{DESA}"


async def _apply(pool, publisher, value, submission_id=None, region=DESA):
    async with pool.acquire() as conn, conn.transaction():
        return await apply.apply_rows(
            conn, dataset_slug="jumlah-penduduk", publisher_id=publisher,
            rows=[{"region": region, "period": "2024", "jenis_kelamin": "L", "jumlah": value}],
            submission_id=submission_id)


async def _open_conflict(pool):
    await _apply(pool, "disdukcapil", 100)
    submission = uuid.uuid4()
    outcome = await _apply(pool, DESA_PUBLISHER, 120, submission)
    assert outcome.counts.conflicts == 1
    return submission


async def test_conflict_list_shows_both_values_and_their_sources(client, registry):
    submission = await _open_conflict(registry["pool"])
    r = await client.get("/v1/conflicts", params={"dataset": "jumlah-penduduk",
                                                  "status": "open"}, headers=STEWARD)
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["current"]["values"] == {"jumlah": 100}
    assert item["current"]["publisher_id"] == "disdukcapil"
    assert item["current"]["publisher_name"].startswith("Dinas Kependudukan")
    assert item["proposed"]["values"] == {"jumlah": 120}
    assert item["proposed"]["publisher_id"] == DESA_PUBLISHER
    assert item["proposed"]["submission_id"] == str(submission)
    assert (item["region_code"], item["period"], item["dimensions"]) == (
        DESA, "2024", {"jenis_kelamin": "L"})
    assert item["region_name"] == "Sangatta Utara" and item["stale"] is False
    # the desa sees its own conflict; another village's publisher does not
    own = principal_headers(DESA_PUBLISHER, "publisher", DESA)
    other = principal_headers("desa-lain", "publisher", "64.08.04.2011")
    assert len((await client.get("/v1/conflicts", headers=own)).json()["items"]) == 1
    assert (await client.get("/v1/conflicts", headers=other)).json()["items"] == []
    assert (await client.get("/v1/conflicts")).status_code == 401


async def test_accepting_a_conflict_makes_a_new_version_from_the_proposal(client, registry):
    pool = registry["pool"]
    await _open_conflict(pool)
    conflict_id = await pool.fetchval("SELECT id FROM registry.conflicts")
    events_before = await pool.fetchval(
        "SELECT count(*) FROM registry.outbox WHERE subject = 'registry.records.changed.v1'")
    r = await client.post(f"/v1/conflicts/{conflict_id}/accept", headers=STEWARD,
                          json={"note": "data desa lebih baru"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted" and r.json()["resolved_by"] == "walidata"
    record = await pool.fetchrow("SELECT id, vals, version, publisher_id FROM registry.records")
    assert (record["vals"], record["version"], record["publisher_id"]) == (
        {"jumlah": 120}, 2, DESA_PUBLISHER)
    history = (await client.get(f"/v1/records/{record['id']}")).json()["history"]
    assert [h["values"]["jumlah"] for h in history] == [100, 120]
    assert history[1]["conflict_id"] == str(conflict_id) and history[0]["conflict_id"] is None
    payload = await pool.fetchval(
        "SELECT payload FROM registry.outbox WHERE subject = 'registry.records.changed.v1' "
        "ORDER BY id DESC LIMIT 1")
    assert payload["data"]["records"][0]["values"] == {"jumlah": 120}
    assert await pool.fetchval(
        "SELECT count(*) FROM registry.outbox WHERE subject = 'registry.records.changed.v1'"
    ) == events_before + 1
    r = await client.post(f"/v1/conflicts/{conflict_id}/accept", headers=STEWARD)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict_not_open"


async def test_accepting_a_stale_conflict_is_refused_and_it_can_be_rejected(client, registry):
    pool = registry["pool"]
    await _open_conflict(pool)
    conflict_id = await pool.fetchval("SELECT id FROM registry.conflicts")
    await _apply(pool, "disdukcapil", 130)  # the authority changes the value meanwhile
    listed = (await client.get("/v1/conflicts", headers=STEWARD)).json()["items"]
    assert listed[0]["stale"] is True
    r = await client.post(f"/v1/conflicts/{conflict_id}/accept", headers=STEWARD)
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "conflict_stale" and "versi 1 menjadi versi 2" in error["message"]
    assert await pool.fetchval("SELECT vals->>'jumlah' FROM registry.records") == "130"
    r = await client.post(f"/v1/conflicts/{conflict_id}/reject", headers=STEWARD, json={})
    assert r.status_code == 422  # a rejection says why
    r = await client.post(f"/v1/conflicts/{conflict_id}/reject", headers=STEWARD,
                          json={"note": "nilai Disdukcapil sudah diperbarui"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["resolution_note"] == "nilai Disdukcapil sudah diperbarui"
    assert (await client.get("/v1/conflicts", headers=STEWARD)).json()["items"] == []
    rejected = (await client.get("/v1/conflicts", params={"status": "rejected"},
                                 headers=STEWARD)).json()["items"]
    assert len(rejected) == 1


async def test_only_stewards_resolve_conflicts(client, registry):
    await _open_conflict(registry["pool"])
    conflict_id = await registry["pool"].fetchval("SELECT id FROM registry.conflicts")
    own = principal_headers(DESA_PUBLISHER, "publisher", DESA)
    r = await client.post(f"/v1/conflicts/{conflict_id}/accept", headers=own)
    assert r.status_code == 403
    r = await client.post(f"/v1/conflicts/{uuid.uuid4()}/accept", headers=STEWARD)
    assert r.status_code == 404


async def test_publisher_sending_the_master_value_withdraws_its_conflict(registry):
    pool = registry["pool"]
    await _open_conflict(pool)
    outcome = await _apply(pool, DESA_PUBLISHER, 100)
    assert outcome.counts.unchanged == 1
    assert await pool.fetchval("SELECT status FROM registry.conflicts") == "superseded"


async def test_conflict_pages_follow_the_cursor(client, registry):
    pool = registry["pool"]
    regions = ["64.08.04.2001"]
    await _apply(pool, "disdukcapil", 1, region=regions[0])
    async with pool.acquire() as conn, conn.transaction():
        rows = [{"region": DESA, "period": str(y), "jenis_kelamin": "P", "jumlah": 1}
                for y in range(2000, 2005)]
        await apply.apply_rows(conn, dataset_slug="jumlah-penduduk",
                                 publisher_id="disdukcapil", rows=rows)
        rows = [{**r, "jumlah": 2} for r in rows]
        await apply.apply_rows(conn, dataset_slug="jumlah-penduduk",
                                 publisher_id=DESA_PUBLISHER, rows=rows)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/conflicts", params=params, headers=STEWARD)).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
