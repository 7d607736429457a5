"""Walidata routes over real HTTP: regions and aliases, publishers and keys."""

import json

from services.registry.publishing import apply
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
DESA = "64.08.04.2001"
PUBLISHER = principal_headers(f"desa-{DESA}", "publisher", DESA, ["jumlah-penduduk"])


async def _resolve(client, region, headers=STEWARD):
    r = await client.post("/internal/v1/datasets/jumlah-penduduk/validate", headers=headers,
                          json={"rows": [{"region": region, "period": "2024",
                                          "jenis_kelamin": "L", "jumlah": 1}]})
    assert r.status_code == 200, r.text
    body = r.json()
    if body["rejected_rows"]:
        return body["rejected_rows"][0]["code"]
    return body["diff"][0]["region_code"]


async def test_operator_alias_import_lands_pending_and_refuses_the_wrong_teluk_baru_row(client):
    csv_text = ("code,name,kemendagri_code,note\n"
                "6404010009,TELUK BARU,64.08.01.2004,baris jembatan yang salah\n"
                ",SANGATA UTRA,64.08.04.2001,ejaan operator\n")
    r = await client.post("/v1/regions/aliases/import", content=csv_text.encode(),
                          headers={**STEWARD, "content-type": "text/csv"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pending"] == 1
    [refused] = body["refused"]
    assert refused["line"] == 1 and "Long Nah" in refused["reason"]
    # the refused row is kept, with its reason, for the operator to see
    r = await client.get("/v1/regions/aliases", params={"status": "refused"}, headers=STEWARD)
    wrong = [a for a in r.json()["items"] if a["alias"] == "6404010009"]
    assert wrong and wrong[0]["region_code"] == "64.08.01.2004"
    assert "bertentangan" in wrong[0]["note"]
    # the BPS code still means Teluk Baru, and the pending spelling is not used yet
    assert await _resolve(client, "6404010009") == "64.08.01.2014"
    assert await _resolve(client, "Sangata Utra") == "region_unknown"
    r = await client.get("/v1/regions/aliases", params={"status": "pending"}, headers=STEWARD)
    [pending] = r.json()["items"]
    r = await client.post(f"/v1/regions/aliases/{pending['id']}/approve", headers=STEWARD,
                          json={"note": "diperiksa"})
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert r.json()["reviewed_by"] == "walidata"
    assert await _resolve(client, "Sangata Utra") == DESA
    r = await client.post(f"/v1/regions/aliases/{pending['id']}/approve", headers=STEWARD)
    assert r.status_code == 409 and r.json()["error"]["code"] == "alias_not_pending"


async def test_alias_routes_are_for_stewards_only(client):
    r = await client.get("/v1/regions/aliases", headers=PUBLISHER)
    assert r.status_code == 403 and r.json()["error"]["code"] == "steward_only"
    r = await client.post("/v1/regions/aliases/import", json={"rows": []})
    assert r.status_code == 401


async def test_alias_import_accepts_json_and_multipart(client):
    r = await client.post("/v1/regions/aliases/import", headers=STEWARD, json={
        "rows": [{"code": "9999001", "name": "Singa Gembara", "kemendagri_code": "64.08.04.2011"}],
        "source": "uji"})
    assert r.status_code == 200 and r.json()["pending"] == 1
    files = {"file": ("alias.csv", b"code;name;kemendagri_code\n9999002;Sangkima;64.08.12.2003\n",
                      "text/csv")}
    r = await client.post("/v1/regions/aliases/import", headers=STEWARD, files=files)
    assert r.status_code == 200, r.text
    assert r.json()["pending"] == 1
    r = await client.post("/v1/regions/aliases/import", headers=STEWARD,
                          json={"rows": [{"kode": "x", "kemendagri_code": "64.08"}]})
    assert r.status_code == 422


async def test_region_import_retires_a_code_and_the_old_code_resolves_to_its_successor(
        client, registry):
    pool = registry["pool"]
    before = await pool.fetchval(
        "SELECT count(*) FROM registry.outbox WHERE subject = 'registry.regions.changed.v1'")
    rows = [{"code": "64.08.12.2002", "name": "Singa Geweh", "level": "desa",
             "parent_code": "64.08.12", "valid_until": "2010-01-01",
             "successor_code": "64.08.12.1002", "note": "menjadi kelurahan"}]
    r = await client.post("/v1/regions/import", headers=STEWARD, json={"rows": rows})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1 and r.json()["retired"] == 1
    assert await _resolve(client, "64.08.12.2002") == "64.08.12.1002"
    assert await _resolve(client, "Singa Geweh") == "64.08.12.1002"
    r = await client.get("/v1/regions/64.08.12.2002")
    assert r.json()["successor_code"] == "64.08.12.1002"
    after = await pool.fetchval(
        "SELECT count(*) FROM registry.outbox WHERE subject = 'registry.regions.changed.v1'")
    assert after == before + 1


async def test_region_import_renames_keep_the_old_name_and_bad_rows_change_nothing(client):
    csv_text = ("code,name,level,parent_code\n"
                "64.08.12.2004,Teluk Singkama Baru,desa,64.08.12\n"
                "64.08.12.2099,Desa Pemekaran,desa,64.08.12\n")
    r = await client.post("/v1/regions/import", content=csv_text.encode(),
                          headers={**STEWARD, "content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["renamed"]) == (1, 1, 1)
    assert await _resolve(client, "Teluk Singkama") == "64.08.12.2004"
    assert await _resolve(client, "Desa Pemekaran") == "64.08.12.2099"
    bad = [{"code": "64.08.12.2100", "name": "A", "level": "desa", "parent_code": "64.08.12"},
           {"code": "64.08.99.2001", "name": "B", "level": "desa", "parent_code": "64.08.99"}]
    r = await client.post("/v1/regions/import", headers=STEWARD, json={"rows": bad})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["code"] == "parent_unknown"
    assert (await client.get("/v1/regions/64.08.12.2100")).status_code == 404


async def test_publisher_and_key_lifecycle(client):
    r = await client.post("/v1/publishers", headers=STEWARD, json={
        "id": "kec-sangatta-utara", "name": "Kecamatan Sangatta Utara", "kind": "kecamatan",
        "region_scope": "64.08.04", "datasets": ["jumlah-penduduk"]})
    assert r.status_code == 201, r.text
    r = await client.post("/v1/publishers", headers=STEWARD, json={
        "id": "kec-sangatta-utara", "name": "lagi", "kind": "kecamatan",
        "region_scope": "64.08.04"})
    assert r.status_code == 409
    r = await client.post("/v1/publishers", headers=STEWARD, json={
        "id": "desa-salah", "name": "Desa salah", "kind": "desa", "region_scope": "64.08.04"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "scope_level_mismatch"
    r = await client.post("/v1/keys", headers=STEWARD, json={
        "publisher_id": "kec-sangatta-utara", "label": "operator kecamatan",
        "expires_at": "2999-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    created = r.json()
    raw = created["key"]
    r = await client.post("/internal/v1/auth/resolve", json={"key": raw})
    assert r.status_code == 200
    assert (r.json()["region_scope"], r.json()["role"]) == ("64.08.04", "publisher")
    listed = (await client.get("/v1/keys", params={"publisher": "kec-sangatta-utara"},
                               headers=STEWARD)).json()["items"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert raw not in str(listed) and "key_hash" not in listed[0] and "key" not in listed[0]
    r = await client.post(f"/v1/keys/{created['id']}/revoke", headers=STEWARD)
    assert r.status_code == 200 and r.json()["revoked_at"]
    r = await client.post("/internal/v1/auth/resolve", json={"key": raw})
    assert r.status_code == 401 and r.json()["error"]["code"] == "revoked_api_key"
    r = await client.post("/v1/keys", headers=STEWARD, json={
        "publisher_id": "kec-sangatta-utara", "expires_at": "2001-01-01T00:00:00Z"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "expiry_in_past"
    r = await client.post("/v1/keys", headers=STEWARD,
                          json={"publisher_id": "walidata", "role": "admin"})
    assert r.status_code == 403
    r = await client.post("/v1/keys", headers=PUBLISHER, json={"publisher_id": "walidata"})
    assert r.status_code == 403


async def test_kecamatan_publisher_writes_for_its_villages_only(client, registry):
    await client.post("/v1/publishers", headers=STEWARD, json={
        "id": "kec-sangatta-utara", "name": "Kecamatan Sangatta Utara", "kind": "kecamatan",
        "region_scope": "64.08.04", "datasets": ["jumlah-penduduk"]})
    rows = [{"region": "64.08.04.2011", "period": "2024", "jenis_kelamin": "L", "jumlah": 5},
            {"region": "64.08.12.2003", "period": "2024", "jenis_kelamin": "L", "jumlah": 5}]
    async with registry["pool"].acquire() as conn, conn.transaction():
        outcome = await apply.apply_rows(conn, dataset_slug="jumlah-penduduk",
                                           publisher_id="kec-sangatta-utara", rows=rows)
    assert outcome.counts.created == 1
    assert [r.code for r in outcome.rejected] == ["region_out_of_scope"]
    assert outcome.rejected[0].index == 1


async def test_two_region_events_of_one_version_are_the_same_event(client, registry):
    """Search keeps the newest version of a region; the relay publishes a batch concurrently,
    so two events of one version that differ (an alias added without a new version) would leave
    search with whichever landed last. Seeding, an import, an approval and a refusal each give
    the region a new version."""
    r = await client.post("/v1/regions/aliases/import", headers=STEWARD, json={"rows": [
        {"code": "", "name": "Sangata Utra", "kemendagri_code": DESA},
        {"code": "", "name": "Sangata Utre", "kemendagri_code": DESA}]})
    assert r.status_code == 200, r.text
    pending = (await client.get("/v1/regions/aliases", params={"status": "pending"},
                                headers=STEWARD)).json()["items"]
    assert len(pending) == 2
    for alias, verdict in zip(pending, ("approve", "refuse")):
        r = await client.post(f"/v1/regions/aliases/{alias['id']}/{verdict}", headers=STEWARD)
        assert r.status_code == 200, r.text
    seen: dict[tuple[str, int], set[str]] = {}
    for payload in await registry["pool"].fetch(
            "SELECT payload::text FROM registry.outbox "
            "WHERE subject = 'registry.regions.changed.v1'"):
        for region in json.loads(payload["payload"])["data"]["regions"]:
            seen.setdefault((region["code"], region["version"]), set()).add(
                json.dumps(region, sort_keys=True))
    assert seen and all(len(kinds) == 1 for kinds in seen.values()), [
        key for key, kinds in seen.items() if len(kinds) > 1]
    published = [key for key in seen if key[0] == DESA]
    assert len(published) >= 2  # the approval published the desa again, at a new version
