"""Aggregates up the region tree and reporting completeness, computed from master records."""

from services.registry.publishing import apply
from services.registry.bootstrap.seed import seed_sample_values
from tests.helpers import dataset_payload
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()


async def _sql_sum(pool, period, prefix, sex=None):
    return await pool.fetchval(
        """SELECT sum((r.vals->>'jumlah')::int) FROM registry.records r
           WHERE r.period = $1 AND r.region_code LIKE $2 || '%'
             AND ($3::text IS NULL OR r.dims->>'jenis_kelamin' = $3)""", period, prefix, sex)


async def test_aggregate_sums_up_the_hierarchy_and_equals_a_direct_sum(client, registry):
    pool = registry["pool"]
    async with pool.acquire() as conn, conn.transaction():
        assert await seed_sample_values(conn, "2023") == 282
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                   "period": "2023", "measure": "jumlah"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["region"]["code"] == "64.08"
    assert body["value"] == await _sql_sum(pool, "2023", "64.08")
    assert (body["reporting"], body["expected"], body["rate"]) == (141, 141, 1.0)
    assert len(body["children"]) == 18
    assert sum(c["value"] for c in body["children"]) == body["value"]
    kec = next(c for c in body["children"] if c["region"]["code"] == "64.08.04")
    assert kec["value"] == await _sql_sum(pool, "2023", "64.08.04")
    # filtered by a dimension label, drilled down to one kecamatan
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                   "period": "2023", "region": "64.08.04",
                                                   "jenis_kelamin": "Perempuan"})
    body = r.json()
    assert body["filters"] == {"jenis_kelamin": "P"}
    assert body["value"] == await _sql_sum(pool, "2023", "64.08.04", "P")
    assert {c["region"]["level"] for c in body["children"]} <= {"desa", "kelurahan"}
    assert all(c["expected"] == 1 for c in body["children"])


async def test_aggregate_counts_the_regions_that_reported(client, registry):
    pool = registry["pool"]
    rows = [{"region": code, "period": "2024", "jenis_kelamin": "L", "jumlah": 10}
            for code in ("64.08.04.2001", "64.08.04.2011")]
    async with pool.acquire() as conn, conn.transaction():
        await apply.apply_rows(conn, dataset_slug="jumlah-penduduk",
                                 publisher_id="disdukcapil", rows=rows)
    expected = await pool.fetchval(
        "SELECT count(*) FROM registry.regions WHERE parent_code = '64.08.04'")
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                   "period": "2024", "region": "64.08.04"})
    body = r.json()
    assert (body["value"], body["reporting"], body["expected"]) == (20, 2, expected)
    silent = [c for c in body["children"] if c["reporting"] == 0]
    assert len(silent) == expected - 2 and all(c["value"] is None for c in silent)
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                   "period": "2024"})
    other = next(c for c in r.json()["children"] if c["region"]["code"] == "64.08.01")
    assert (other["value"], other["reporting"]) == (None, 0)


async def test_non_additive_measure_is_refused(client):
    r = await client.post("/v1/datasets", headers=STEWARD, json=dataset_payload(
        "rasio-guru-murid", title="Rasio guru dan murid",
        schema={"measures": [
            {"name": "guru", "label": "Jumlah guru", "additive": True},
            {"name": "rasio", "label": "Rasio murid per guru", "type": "decimal"}],
            "region_levels": ["kecamatan"]}))
    assert r.status_code == 201, r.text
    r = await client.get("/v1/aggregates", params={"dataset": "rasio-guru-murid",
                                                   "period": "2024", "measure": "rasio"})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "measure_not_additive"
    assert "tidak aditif" in r.json()["error"]["message"]
    r = await client.get("/v1/aggregates", params={"dataset": "rasio-guru-murid",
                                                   "period": "2024"})
    assert r.status_code == 200 and r.json()["measure"] == "guru"
    assert r.json()["expected"] == 18
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                   "period": "2024-01"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "period_format"


async def test_completeness_lists_reported_missing_and_conflicting_villages(client, registry):
    pool = registry["pool"]
    rows = [{"region": code, "period": "2024", "jenis_kelamin": "L", "jumlah": 10}
            for code in ("64.08.04.2001", "64.08.04.2011", "64.08.12.2003")]
    async with pool.acquire() as conn, conn.transaction():
        await apply.apply_rows(conn, dataset_slug="jumlah-penduduk",
                                 publisher_id="disdukcapil", rows=rows)
        outcome = await apply.apply_rows(
            conn, dataset_slug="jumlah-penduduk", publisher_id="desa-64.08.04.2001",
            rows=[{**rows[0], "jumlah": 11}])
        assert outcome.counts.conflicts == 1
    r = await client.get("/v1/completeness", params={"dataset": "jumlah-penduduk",
                                                     "period": "2024"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["expected"], body["reported"], body["missing"], body["in_conflict"]) == (
        141, 3, 138, 1)
    status = {u["code"]: u["status"] for u in body["regions"]}
    assert status["64.08.04.2001"] == "conflict"
    assert status["64.08.04.2011"] == "reported"
    assert status["64.08.01.2001"] == "missing"
    kec = {k["code"]: k for k in body["kecamatan"]}
    assert len(kec) == 18
    sangatta_utara = kec["64.08.04"]
    assert (sangatta_utara["reported"], sangatta_utara["in_conflict"]) == (2, 1)
    assert sangatta_utara["rate"] == round(2 / sangatta_utara["expected"], 4)
    assert kec["64.08.01"]["rate"] == 0


async def _rows(pool, rows, publisher="disdukcapil", slug="jumlah-penduduk"):
    async with pool.acquire() as conn, conn.transaction():
        return await apply.apply_rows(conn, dataset_slug=slug, publisher_id=publisher,
                                        rows=rows)


async def test_aggregate_answers_every_period_and_several_measures_in_one_call(client, registry):
    pool = registry["pool"]
    async with pool.acquire() as conn, conn.transaction():
        await seed_sample_values(conn, "2022")
        await seed_sample_values(conn, "2023")
    await _rows(pool, [{"region": c, "period": "2024", "jenis_kelamin": "P", "jumlah": 7}
                       for c in ("64.08.04.2001", "64.08.04.2011", "64.08.12.2003")])
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["period"] for p in body["periods"]] == ["2022", "2023", "2024"]
    for p in body["periods"]:
        assert p["values"]["jumlah"] == p["value"] == await _sql_sum(pool, p["period"], "64.08")
        assert sum(c["value"] or 0 for c in p["children"]) == p["value"]
    partial = body["periods"][2]
    assert (partial["reporting"], partial["expected"], partial["complete"]) == (3, 141, False)
    assert partial["rate"] == round(3 / 141, 4) and body["periods"][0]["rate"] == 1.0
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                   "period_from": "2023", "period_to": "2024"})
    assert [p["period"] for p in r.json()["periods"]] == ["2023", "2024"]
    r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                   "period_from": "2024", "period_to": "2023"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "period_range"


async def test_ratio_is_never_summed_only_shown_per_region(client, registry):
    pool = registry["pool"]
    r = await client.post("/v1/datasets", headers=STEWARD, json=dataset_payload(
        "rasio-murid-guru", title="Murid, guru dan rasio murid per guru",
        authoritative=["disdukcapil"],
        schema={"measures": [
            {"name": "murid", "label": "Jumlah murid", "additive": True},
            {"name": "guru", "label": "Jumlah guru", "additive": True},
            {"name": "rasio", "label": "Rasio murid per guru", "type": "decimal"}]}))
    assert r.status_code == 201, r.text
    await _rows(pool, [
        {"region": "64.08.04.2001", "period": "2024", "murid": 555, "guru": 10, "rasio": 55.5},
        {"region": "64.08.04.2011", "period": "2024", "murid": 300, "guru": 20, "rasio": 15}],
        slug="rasio-murid-guru", publisher="walidata")
    params = {"dataset": "rasio-murid-guru", "region": "64.08.04"}
    r = await client.get("/v1/aggregates", params={**params, "measure": "murid,guru"})
    period = r.json()["periods"][0]
    assert period["values"] == {"murid": 855, "guru": 30} and "value" not in period
    for asked in ({"measure": ["murid", "rasio"]}, {"measure": "rasio", "sum": "true"}):
        r = await client.get("/v1/aggregates", params={**params, **asked})
        assert r.status_code == 422 and r.json()["error"]["code"] == "measure_not_additive"
    r = await client.get("/v1/aggregates", params={**params, "measure": "rasio", "sum": "false"})
    assert r.status_code == 200, r.text
    period = r.json()["periods"][0]
    assert "value" not in period["values"] or period["values"]["rasio"] is None
    assert {x["region"]["code"]: x["value"] for x in period["regions"]} == {
        "64.08.04.2001": 55.5, "64.08.04.2011": 15.0}
    assert period["reporting"] == 2 and period["values"] == {"rasio": None}
