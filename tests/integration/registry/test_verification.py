"""Checked before it is published: rules, outliers, the publication policy and the walidata's
verification queue. A held value is a pending proposal: the public keeps the last verified one."""

import csv
import io
import uuid

from services.registry.access import store
from services.registry.publishing import apply
from tests.helpers import dataset_payload
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
DESA = "64.08.04.2001"
DESA_PUBLISHER = f"desa-{DESA}"
OWN = principal_headers(DESA_PUBLISHER, "publisher", DESA)
OTHER = principal_headers("desa-lain", "publisher", "64.08.04.2011")
KEC = "64.08.04"
KEC_UNITS = ["64.08.04.1010", "64.08.04.2001", "64.08.04.2011", "64.08.04.2012"]
SEKOLAH = "contoh-sekolah"


async def _apply(pool, rows, publisher="disdukcapil", slug="jumlah-penduduk", submission=None):
    async with pool.acquire() as conn, conn.transaction():
        return await apply.apply_rows(conn, dataset_slug=slug, publisher_id=publisher,
                                      rows=rows, submission_id=submission or uuid.uuid4())


def _jumlah(region, period, value, sex="L"):
    return {"region": region, "period": period, "jenis_kelamin": sex, "jumlah": value}


async def _sekolah(client, pool):
    """A SAMPLE (contoh) dataset with two measures, which the desa may fill."""
    payload = dataset_payload(SEKOLAH, schema={"measures": [
        {"name": "guru", "label": "Guru"}, {"name": "murid", "label": "Murid"}]})
    assert (await client.post("/v1/datasets", json=payload, headers=STEWARD)).status_code == 201
    async with pool.acquire() as conn:
        p = await store.get_publisher(conn, DESA_PUBLISHER)
        await store.upsert_publisher(conn, id=p["id"], name=p["name"], kind=p["kind"],
                                     region_scope=p["region_scope"],
                                     datasets=sorted({*p["datasets"], SEKOLAH}))


async def _policy(client, slug, policy):
    r = await client.put(f"/v1/datasets/{slug}/verification-policy", headers=STEWARD,
                         json={"policy": policy})
    assert r.status_code == 200, r.text


async def _public(client, slug="jumlah-penduduk", **params):
    r = await client.get(f"/v1/datasets/{slug}/records", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_value_breaking_a_rule_is_held_and_both_sides_see_why(client, registry):
    pool = registry["pool"]
    await _sekolah(client, pool)
    rule = {"expression": "guru > 0 and murid / guru <= 60", "importance": "tinggi",
            "message": "Rasio murid per guru paling banyak 60; periksa jumlah guru dan murid."}
    r = await client.post(f"/v1/datasets/{SEKOLAH}/rules", json=rule, headers=STEWARD)
    assert r.status_code == 201, r.text
    rows = [{"region": DESA, "period": "2023", "guru": 10, "murid": 300},
            {"region": DESA, "period": "2024", "guru": 2, "murid": 500}]
    # the dry run says it before anything is stored
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        dry = await apply.dry_run(conn, registry_principal(), SEKOLAH, rows)
        await tx.rollback()
    assert (dry.counts.created, dry.counts.held) == (1, 1)
    assert [d["change"] for d in dry.diff] == ["create", "held"]
    assert dry.diff[1]["reasons"][0]["message"] == rule["message"]
    assert await pool.fetchval("SELECT count(*) FROM registry.held_values") == 0

    outcome = await _apply(pool, rows, DESA_PUBLISHER, SEKOLAH)
    assert (outcome.counts.created, outcome.counts.held) == (1, 1)
    assert outcome.held[0]["line"] == 2 and outcome.held[0]["reasons"][0]["rule_id"]
    assert [x["period"] for x in await _public(client, SEKOLAH)] == ["2023"]
    for who in (STEWARD, OWN):
        r = await client.get("/v1/verification", headers=who)
        assert r.status_code == 200, r.text
        [item] = r.json()["items"]
        assert item["proposed"] == {"guru": 2, "murid": 500} and item["public"] is None
        assert item["reasons"][0]["message"] == rule["message"]
        assert item["reasons"][0]["importance"] == "tinggi"
    assert (await client.get("/v1/verification", headers=OTHER)).json()["items"] == []
    assert (await client.get("/v1/verification")).status_code == 401


def registry_principal():
    from shared.auth import Principal
    return Principal(key_id="k", publisher_id=DESA_PUBLISHER, publisher_name="desa",
                     role="publisher", region_scope=DESA, datasets=[SEKOLAH])


async def test_rules_are_checked_when_written_and_only_by_the_walidata(client, registry):
    await _sekolah(client, registry["pool"])
    url = f"/v1/datasets/{SEKOLAH}/rules"
    for bad in ('__import__("os").system("ls") > 0', "guru.real > 0", "guru ** 2 > 1",
                "siswa > 0", "guru"):
        r = await client.post(url, headers=STEWARD, json={"expression": bad,
                                                          "message": "tidak boleh"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_rule", bad
    r = await client.post(url, headers=OWN, json={"expression": "guru > 0", "message": "ada"})
    assert r.status_code == 403
    r = await client.post(url, headers=STEWARD, json={"expression": "guru > 0",
                                                      "message": "Guru minimal satu."})
    rule_id = r.json()["id"]
    r = await client.put(f"{url}/{rule_id}", headers=STEWARD,
                         json={"expression": "guru >= 1", "message": "Guru minimal satu."})
    assert r.json()["expression"] == "guru >= 1"
    assert [x["id"] for x in (await client.get(url, headers=STEWARD)).json()["items"]] == [
        rule_id]
    assert (await client.delete(f"{url}/{rule_id}", headers=STEWARD)).status_code == 200
    assert (await client.delete(f"{url}/{rule_id}", headers=STEWARD)).status_code == 404


async def test_cross_record_rules_and_on_demand_evaluation(client, registry):
    pool = registry["pool"]
    slug = "contoh-penduduk-total"
    payload = dataset_payload(slug, authoritative=["disdukcapil"], schema={
        "dimensions": [{"name": "jenis_kelamin", "label": "Jenis kelamin",
                        "values": {"L": "Laki-laki", "P": "Perempuan", "T": "Total"}}],
        "measures": [{"name": "jumlah", "label": "Jumlah"}],
        "region_levels": ["kecamatan", "desa", "kelurahan"]})
    assert (await client.post("/v1/datasets", json=payload, headers=STEWARD)).status_code == 201
    rules = [{"expression": "jumlah <= parent(jumlah)",
              "message": "Nilai desa tidak boleh melebihi nilai kecamatannya."},
             {"expression": 'sibling(jumlah, jenis_kelamin="L") + '
                            'sibling(jumlah, jenis_kelamin="P") == '
                            'sibling(jumlah, jenis_kelamin="T")',
              "message": "Laki-laki ditambah perempuan harus sama dengan total."}]
    # values already there (the walidata checks them on demand) ...
    outcome = await _apply(pool, [_jumlah(KEC, "2022", 50, "T"),
                                  _jumlah(DESA, "2022", 80, "T")],
                           publisher="walidata", slug=slug)
    assert outcome.counts.created == 2, outcome.rejected
    for rule in rules:
        r = await client.post(f"/v1/datasets/{slug}/rules", json=rule, headers=STEWARD)
        assert r.status_code == 201, r.text
    r = await client.post(f"/v1/datasets/{slug}/rules/evaluate", headers=STEWARD)
    assert r.status_code == 200, r.text
    assert r.json()["failing_records"] == 1
    assert r.json()["items"][0]["region_code"] == DESA
    # ... and new ones are held while a chunk is applied, against the chunk's own rows too
    outcome = await _apply(pool, [_jumlah(KEC, "2024", 100, "T"),
                                  _jumlah(DESA, "2024", 150, "T"),
                                  _jumlah("64.08.04.2011", "2024", 40, "T")],
                           publisher="walidata", slug=slug)
    assert (outcome.counts.created, outcome.counts.held) == (2, 1)
    assert outcome.held[0]["region_code"] == DESA
    outcome = await _apply(pool, [_jumlah("64.08.04.2011", "2024", 25, "L"),
                                  _jumlah("64.08.04.2011", "2024", 16, "P")],
                           publisher="walidata", slug=slug)
    assert (outcome.counts.created, outcome.counts.held) == (0, 2)
    assert {h["reasons"][0]["message"] for h in outcome.held} == {rules[1]["message"]}
    outcome = await _apply(pool, [_jumlah("64.08.04.2011", "2024", 25, "L"),
                                  _jumlah("64.08.04.2011", "2024", 15, "P")],
                           publisher="walidata", slug=slug)
    assert (outcome.counts.created, outcome.counts.held) == (2, 0)
    assert await pool.fetchval(
        "SELECT count(*) FROM registry.held_values WHERE status = 'superseded'") == 2


async def test_an_outlier_against_history_is_held_with_its_expected_range(client, registry):
    pool = registry["pool"]
    for period, value in zip(("2019", "2020", "2021", "2022", "2023"),
                             (100, 104, 98, 101, 103)):
        assert (await _apply(pool, [_jumlah(DESA, period, value)])).counts.created == 1
    outcome = await _apply(pool, [_jumlah(DESA, "2024", 1010), _jumlah(DESA, "2024", 99, "P")])
    assert (outcome.counts.created, outcome.counts.held) == (1, 1)
    [why] = outcome.held[0]["reasons"]
    assert why["kind"] == "outlier" and why["basis"] == "history"
    assert why["expected_min"] < 101 < why["expected_max"] < 1010
    assert "1.010" in why["message"]
    assert [x["dimensions"] for x in await _public(client, period="2024")] == [
        {"jenis_kelamin": "P"}]
    [item] = (await client.get("/v1/verification", headers=STEWARD)).json()["items"]
    assert item["reasons"][0]["expected_max"] == why["expected_max"]


async def test_an_outlier_among_peers_is_held_when_history_is_short(client, registry):
    pool = registry["pool"]
    desa = [r["code"] for r in await pool.fetch(
        "SELECT code FROM registry.regions WHERE level = 'desa' ORDER BY code LIMIT 13")]
    await _apply(pool, [_jumlah(c, "2024", 50 + n) for n, c in enumerate(desa[:12])])
    outcome = await _apply(pool, [_jumlah(desa[12], "2024", 900)])
    assert outcome.counts.held == 1
    assert outcome.held[0]["reasons"][0]["basis"] == "peers"


async def test_peers_are_only_regions_of_the_same_level(client, registry):
    pool = registry["pool"]
    levels = {}
    for level in ("desa", "kelurahan"):
        levels[level] = [r["code"] for r in await pool.fetch(
            "SELECT code FROM registry.regions WHERE level = $1 ORDER BY code LIMIT 10", level)]
    assert len(levels["kelurahan"]) >= 2
    peers = levels["desa"][:9] + levels["kelurahan"][:2]  # 9 desa: fewer than min_peers
    await _apply(pool, [_jumlah(c, "2024", 50 + n) for n, c in enumerate(peers)])
    outcome = await _apply(pool, [_jumlah(levels["desa"][9], "2024", 900)])
    assert (outcome.counts.created, outcome.counts.held) == (1, 0)


async def test_under_verifikasi_nothing_new_is_public_until_verified(client, registry):
    pool = registry["pool"]
    await _apply(pool, [_jumlah(DESA, "2023", 100)])
    await _policy(client, "jumlah-penduduk", "verifikasi")
    changes_before = (await client.get("/v1/changes")).json()["next"]
    outcome = await _apply(pool, [_jumlah(DESA, "2023", 120), _jumlah(DESA, "2024", 130)])
    assert (outcome.counts.updated, outcome.counts.created, outcome.counts.held) == (0, 0, 2)
    [record] = await _public(client)
    assert record["values"] == {"jumlah": 100}
    assert record["verification_status"] == "sedang_diverifikasi"
    feed = (await client.get("/v1/changes", params={"since": changes_before})).json()["items"]
    # no new version is public: the feed says only that two values wait for the walidata
    assert [(x["change"], x["period"], x["values"]) for x in feed] == [
        ("held", "2023", {}), ("held", "2024", {})]
    # the aggregate keeps the verified 100 and says two of its values await the walidata
    body = (await client.get("/v1/aggregates", params={
        "dataset": "jumlah-penduduk", "period": "2023", "region": KEC})).json()
    assert (body["value"], body["held"], body["verification_status"]) == (
        100, 1, "sedang_diverifikasi")
    [child] = [c for c in body["children"] if c["region"]["code"] == DESA]
    assert (child["held"], child["verification_status"]) == (1, "sedang_diverifikasi")
    assert all(c["held"] == 0 and "verification_status" not in c
               for c in body["children"] if c["region"]["code"] != DESA)
    own = (await client.get("/v1/aggregates", params={
        "dataset": "jumlah-penduduk", "period": "2023", "region": KEC, "sum": "false"})).json()
    assert [(r["region"]["code"], r["held"]) for r in own["regions"]] == [(DESA, 1)]
    items = (await client.get("/v1/verification", headers=STEWARD)).json()["items"]
    assert [i["reasons"][0]["code"] for i in items] == ["policy_verifikasi"] * 2
    held = next(i for i in items if i["period"] == "2023")
    r = await client.post(f"/v1/verification/{held['id']}/verify", headers=STEWARD,
                          json={"note": "sudah dicek ke desa"})
    assert r.status_code == 200 and r.json()["items"][0]["status"] == "verified"
    [record] = await _public(client, period="2023")
    assert record["values"] == {"jumlah": 120}
    assert record["verification_status"] == "terverifikasi"
    detail = (await client.get(f"/v1/records/{record['id']}")).json()
    assert detail["history"][-1]["reason"] == "Diverifikasi walidata (walidata): " \
                                              "sudah dicek ke desa"
    assert [d["status"] for d in detail["verification"]] == ["verified"]
    r = await client.post(f"/v1/verification/{held['id']}/verify", headers=STEWARD)
    assert r.status_code == 409


async def test_bulk_verification_of_a_kecamatan_publishes_everywhere_at_once(client, registry):
    pool = registry["pool"]
    await _policy(client, "jumlah-penduduk", "verifikasi")
    await _apply(pool, [_jumlah(c, "2024", 10 * (n + 1)) for n, c in enumerate(KEC_UNITS[1:])]
                 + [_jumlah("64.08.01.2001", "2024", 7)])
    agg = {"dataset": "jumlah-penduduk", "period": "2024", "region": KEC}
    held = (await client.get("/v1/aggregates", params=agg)).json()
    assert (held["reporting"], held["held"], held["verification_status"]) == (
        0, 3, "sedang_diverifikasi")
    # completeness counts a held value as reported, marked unverified
    done = (await client.get("/v1/completeness", params=agg)).json()
    assert done["reported"] == 3
    assert sorted(u["status"] for u in done["regions"]) == ["missing"] + ["unverified"] * 3
    items = (await client.get("/v1/verification", headers=STEWARD,
                              params={"kecamatan": KEC})).json()["items"]
    assert len(items) == 3
    assert items[0]["reporting"] == {"kecamatan": KEC, "expected": 4, "reporting_now": 0,
                                     "reporting_after": 3, "rate_now": 0.0, "rate_after": 0.75}
    since = (await client.get("/v1/changes")).json()["next"]
    events = await _record_events(pool)
    r = await client.post("/v1/verification/verify", headers=STEWARD, json={
        "dataset": "jumlah-penduduk", "period": "2024", "kecamatan": KEC, "note": "cek lapangan"})
    assert r.status_code == 200, r.text
    assert r.json()["decided"] == 3
    # records, aggregates, the change feed, the CSV export and one event (search's feed)
    assert sorted(x["region_code"] for x in await _public(client)) == KEC_UNITS[1:]
    body = (await client.get("/v1/aggregates", params=agg)).json()
    assert (body["value"], body["reporting"], body["held"]) == (60, 3, 0)
    assert "verification_status" not in body
    feed = (await client.get("/v1/changes", params={"since": since})).json()["items"]
    assert sorted(x["region_code"] for x in feed if x["change"] == "version") == KEC_UNITS[1:]
    assert sorted(x["region_code"] for x in feed if x["change"] == "verified") == KEC_UNITS[1:]
    r = await client.get("/v1/datasets/jumlah-penduduk/records", params={"format": "csv"})
    regions = {row["kode_wilayah"] for row in csv.DictReader(io.StringIO(r.text))}
    assert set(KEC_UNITS[1:]) <= regions and "64.08.01.2001" not in regions
    assert await _record_events(pool) == events + 1
    left = (await client.get("/v1/verification", headers=STEWARD)).json()["items"]
    assert [x["region_code"] for x in left] == ["64.08.01.2001"]


async def _record_events(pool):
    return await pool.fetchval(
        "SELECT count(*) FROM registry.outbox WHERE subject = 'registry.records.changed.v1'")


async def test_a_returned_value_never_becomes_public_and_its_publisher_reads_why(client,
                                                                                registry):
    pool = registry["pool"]
    await _policy(client, "jumlah-penduduk", "verifikasi")
    submission = uuid.uuid4()
    await _apply(pool, [_jumlah(DESA, "2024", 40000)], DESA_PUBLISHER, submission=submission)
    [item] = (await client.get("/v1/verification", headers=OWN)).json()["items"]
    note = "Angka 40.000 terlalu besar untuk satu desa; kirim ulang nilai yang benar."
    r = await client.post(f"/v1/verification/{item['id']}/return", headers=STEWARD,
                          json={"note": note})
    assert r.status_code == 200, r.text
    r = await client.post("/v1/verification/verify", headers=STEWARD,
                          json={"dataset": "jumlah-penduduk"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "nothing_held"
    assert await _public(client) == []
    mine = (await client.get("/v1/verification", headers=OWN, params={
        "status": "returned", "submission_id": str(submission)})).json()["items"]
    assert [(m["note"], m["proposed"]) for m in mine] == [(note, {"jumlah": 40000})]
    r = await client.post(f"/v1/verification/{item['id']}/return", headers=OWN,
                          json={"note": "saya sendiri"})
    assert r.status_code == 403


async def test_a_value_in_conflict_and_held_is_in_both_queues_linked(client, registry):
    pool = registry["pool"]
    await _apply(pool, [_jumlah(DESA, "2024", 100)])
    await _policy(client, "jumlah-penduduk", "verifikasi")
    outcome = await _apply(pool, [_jumlah(DESA, "2024", 120)], DESA_PUBLISHER)
    assert outcome.counts.conflicts == 1 and outcome.held[0]["in_conflict"]
    [item] = (await client.get("/v1/verification", headers=STEWARD)).json()["items"]
    conflict_id = await pool.fetchval("SELECT id FROM registry.conflicts WHERE status = 'open'")
    assert item["conflict_id"] == str(conflict_id)


async def test_a_value_held_when_its_record_is_retracted_goes_back_and_never_revives_it(
        client, registry):
    pool = registry["pool"]
    await _apply(pool, [_jumlah(DESA, "2023", 100)])
    await _policy(client, "jumlah-penduduk", "verifikasi")
    await _apply(pool, [_jumlah(DESA, "2023", 120)])
    [record] = await _public(client)
    [held] = (await client.get("/v1/verification", headers=STEWARD)).json()["items"]
    r = await client.post(f"/v1/records/{record['id']}/retract", headers=STEWARD,
                          json={"reason": "Data ganda dari OPD lain"})
    assert r.status_code == 200, r.text
    assert (await client.get("/v1/verification", headers=STEWARD)).json()["items"] == []
    r = await client.post(f"/v1/verification/{held['id']}/verify", headers=STEWARD)
    assert r.status_code == 409 and r.json()["error"]["code"] == "held_value_not_open"
    assert await _public(client) == []  # still withdrawn
    [back] = (await client.get("/v1/verification", headers=STEWARD,
                               params={"status": "returned"})).json()["items"]
    assert back["id"] == held["id"]
    assert back["note"] == "Nilai ini ditarik sebelum diverifikasi: Data ganda dari OPD lain"
    detail = (await client.get(f"/v1/records/{record['id']}")).json()
    assert detail["status"] == "retracted"
    assert [d["status"] for d in detail["verification"]] == ["returned"]


async def test_held_returned_and_verified_values_appear_on_the_change_feed_after_a_stored_next(
        client, registry):
    pool = registry["pool"]
    await _apply(pool, [_jumlah(DESA, "2016", 500)])
    stored = (await client.get("/v1/changes")).json()["next"]  # a consumer's stored position
    await _policy(client, "jumlah-penduduk", "verifikasi")

    async def changes_since(since):
        page = (await client.get("/v1/changes", params={"since": since})).json()
        return page["items"], page["next"]

    await _apply(pool, [_jumlah(DESA, "2016", 510)])
    items, stored = await changes_since(stored)
    assert [(i["change"], i["region_code"], i["period"]) for i in items] == [
        ("held", DESA, "2016")]
    assert items[0]["values"] == {} and items[0]["verification_status"] == "sedang_diverifikasi"
    held_id = items[0]["held_id"]

    r = await client.post(f"/v1/verification/{held_id}/return", headers=STEWARD,
                          json={"note": "periksa lagi"})
    assert r.status_code == 200, r.text
    items, stored = await changes_since(stored)
    assert [(i["change"], i["held_id"]) for i in items] == [("returned", held_id)]

    await _apply(pool, [_jumlah(DESA, "2016", 520)])
    r = await client.post("/v1/verification/verify", headers=STEWARD,
                          json={"dataset": "jumlah-penduduk", "period": "2016"})
    assert r.status_code == 200, r.text
    items, stored = await changes_since(stored)
    assert [i["change"] for i in items] == ["held", "version", "verified"]
    assert items[1]["values"] == {"jumlah": 520} and items[1]["version"] == 2
    assert items[2]["held_id"] == items[0]["held_id"]
    assert (await changes_since(stored))[0] == []  # nothing is seen twice
