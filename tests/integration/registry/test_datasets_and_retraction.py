"""Datasets that mean something (the Satu Data Indonesia metadata is required) and withdrawal
with a reason: a whole dataset by the walidata, one value by the walidata or its authority."""

from services.registry.publishing import apply
from tests.helpers import dataset_payload
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
DESA = principal_headers("desa-64.08.04.2001", "publisher", "64.08.04.2001",
                         ["jumlah-penduduk"])
OPD = principal_headers("disdukcapil", "publisher", "64.08", ["jumlah-penduduk"])
SLUG = "jumlah-penduduk"


async def test_dataset_without_required_metadata_is_refused_naming_what_is_missing(client):
    bare = {"slug": "x-data", "title": "x",
            "schema": {"measures": [{"name": "n", "label": "n"}]}}
    r = await client.post("/v1/datasets", headers=STEWARD, json=bare)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "metadata_required"
    missing = {"metadata.produsen_data", "metadata.walidata", "metadata.konsep",
               "metadata.definisi", "metadata.satuan", "frequency"}
    assert {d["field"] for d in error["details"]} == missing
    assert all(m in error["message"] for m in missing)
    r = await client.post("/v1/datasets", headers=STEWARD,
                          json=dataset_payload("x-data", metadata={"satuan": " "}))
    assert r.status_code == 422 and [d["field"] for d in r.json()["error"]["details"]] == [
        "metadata.satuan"]
    r = await client.post("/v1/datasets", headers=STEWARD, json=dataset_payload("x-data"))
    assert r.status_code == 201, r.text
    # an update cannot take a required key away either
    r = await client.patch("/v1/datasets/x-data", headers=STEWARD,
                           json={"metadata": {"konsep": "k"}})
    assert r.status_code == 422 and "metadata.walidata" in r.json()["error"]["message"]


async def _two_records(pool) -> list[dict]:
    rows = [{"region": c, "period": "2024", "jenis_kelamin": "L", "jumlah": n}
            for c, n in (("64.08.04.2001", 100), ("64.08.04.2011", 50))]
    async with pool.acquire() as conn, conn.transaction():
        outcome = await apply.apply_rows(conn, dataset_slug=SLUG, publisher_id="disdukcapil",
                                           rows=rows)
    return sorted(outcome.changed, key=lambda r: r["region_code"])


async def test_retracted_value_leaves_aggregates_and_exports_and_stays_in_history(
        client, registry):
    pool = registry["pool"]
    first, second = await _two_records(pool)
    r = await client.get(f"/v1/changes", params={"since": 0})
    since = r.json()["next"]
    # a desa that is not the dataset's authority may not withdraw the OPD's value
    r = await client.post(f"/v1/records/{first['id']}/retract", headers=DESA,
                          json={"reason": "salah ketik"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "retract_not_allowed"
    r = await client.post(f"/v1/records/{first['id']}/retract", headers=OPD, json={})
    assert r.status_code == 422  # a reason is required
    r = await client.post(f"/v1/records/{first['id']}/retract", headers=OPD,
                          json={"reason": "Nilai salah ketik, akan dikirim ulang"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["version"]) == ("retracted", 2)
    assert [(h["version"], h["status"], h["values"]["jumlah"]) for h in body["history"]] == [
        (1, "current", 100), (2, "retracted", 100)]
    assert body["history"][1]["reason"] == "Nilai salah ketik, akan dikirim ulang"
    r = await client.post(f"/v1/records/{first['id']}/retract", headers=STEWARD,
                          json={"reason": "lagi"})
    assert r.status_code == 409
    agg = (await client.get("/v1/aggregates", params={"dataset": SLUG, "period": "2024",
                                                      "region": "64.08.04"})).json()
    assert (agg["value"], agg["reporting"]) == (50, 1)
    records = (await client.get(f"/v1/datasets/{SLUG}/records",
                                params={"period": "2024"})).json()["items"]
    assert [x["id"] for x in records] == [str(second["id"])]
    csv_text = (await client.get(f"/v1/datasets/{SLUG}/records",
                                 params={"period": "2024", "format": "csv"})).text
    assert "64.08.04.2001" not in csv_text and "64.08.04.2011" in csv_text
    feed = (await client.get("/v1/changes", params={"since": since})).json()["items"]
    assert [(x["record_id"], x["status"]) for x in feed] == [(str(first["id"]), "retracted")]
    event = await pool.fetchval(
        "SELECT payload FROM registry.outbox ORDER BY id DESC LIMIT 1")
    assert "retracted" in str(event)


async def test_walidata_retracts_and_restores_a_dataset(client, registry):
    pool = registry["pool"]
    first, _ = await _two_records(pool)
    r = await client.post(f"/v1/datasets/{SLUG}/retract", headers=OPD,
                          json={"reason": "Metodologi keliru"})
    assert r.status_code == 403
    r = await client.post(f"/v1/datasets/{SLUG}/retract", headers=STEWARD,
                          json={"reason": "Metodologi keliru"})
    assert r.status_code == 200, r.text
    assert r.json()["retraction_reason"] == "Metodologi keliru"
    assert SLUG not in [d["slug"] for d in (await client.get("/v1/datasets")).json()["items"]]
    for url in (f"/v1/datasets/{SLUG}", f"/v1/datasets/{SLUG}/records",
                f"/v1/records/{first['id']}", f"/v1/datasets/{SLUG}/records?format=csv"):
        r = await client.get(url)
        assert r.status_code == 410, url
        assert r.json()["error"]["code"] == "dataset_retracted"
        assert "Metodologi keliru" in r.json()["error"]["message"]
    r = await client.get("/v1/aggregates", params={"dataset": SLUG})
    assert r.status_code == 410
    listed = (await client.get("/v1/datasets", params={"retracted": "true"},
                               headers=STEWARD)).json()["items"]
    assert [d["slug"] for d in listed] == [SLUG]
    snapshot = (await client.get("/internal/v1/snapshot/datasets")).json()["items"]
    assert [d["retracted"] for d in snapshot if d["slug"] == SLUG] == [True]
    records = (await client.get("/internal/v1/snapshot/records")).json()["items"]
    assert records == []
    async with pool.acquire() as conn, conn.transaction():
        outcome = await apply.apply_rows(
            conn, dataset_slug=SLUG, publisher_id="disdukcapil",
            rows=[{"region": "64.08.04.2001", "period": "2025", "jenis_kelamin": "L",
                   "jumlah": 1}])
    assert outcome.rejected[0].code == "dataset_retracted"
    r = await client.post(f"/v1/datasets/{SLUG}/restore", headers=STEWARD)
    assert r.status_code == 200 and r.json()["retracted_at"] is None
    assert (await client.get(f"/v1/records/{first['id']}")).status_code == 200
    assert SLUG in [d["slug"] for d in (await client.get("/v1/datasets")).json()["items"]]


async def test_a_dataset_holding_data_keeps_its_frequency(client, registry):
    """Its stored periods are in its frequency's format (2024, 2024-S1, 2024-Q1, 2024-01: no
    two share one): once it holds a record, any record, another frequency is refused with
    what to do instead, and nothing changes; before, the change was stored and the answer
    read "2024" as a month (a 500, found by the schemathesis run)."""
    await _two_records(registry["pool"])
    before = (await client.get(f"/v1/datasets/{SLUG}")).json()
    r = await client.patch(f"/v1/datasets/{SLUG}", headers=STEWARD,
                           json={"frequency": "monthly"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "frequency_fixed_by_data"
    assert "tahunan" in error["message"] and "dataset baru" in error["message"]
    assert error["details"] == [{"field": "frequency", "current": "annual",
                                 "requested": "monthly"}]
    after = (await client.get(f"/v1/datasets/{SLUG}")).json()
    assert (after["frequency"], after["version"]) == ("annual", before["version"])
    assert after["currency"]["latest_period"] == "2024"
    # the same frequency, or other fields, still change; a dataset without data may change it
    r = await client.patch(f"/v1/datasets/{SLUG}", headers=STEWARD,
                           json={"frequency": "annual", "title": "Jumlah Penduduk (contoh)"})
    assert r.status_code == 200, r.text
    r = await client.post("/v1/datasets", headers=STEWARD, json=dataset_payload("x-data"))
    assert r.status_code == 201, r.text
    r = await client.patch("/v1/datasets/x-data", headers=STEWARD, json={"frequency": "monthly"})
    assert r.status_code == 200 and r.json()["frequency"] == "monthly", r.text
