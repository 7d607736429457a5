"""The EPSS evidence of a year, from sample datasets (contoh): one complete and on time, one
without a description, reported by two villages and unchecked. Every figure is recomputed
here from the records with SQL of its own; the workbook carries the same figures and the
walidata's self-assessment."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from services.registry.bootstrap.seed import seed_sample_values
from services.registry.publishing import apply
from tests.helpers import dataset_payload
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
OTHER = "contoh-sekolah"
DUE = "2027-03-31 23:59:00+08"  # 2026's annual data (grace 90 days)


async def _recount(pool) -> dict:
    units = await pool.fetchval("SELECT count(*) FROM registry.regions "
                                "WHERE level IN ('desa', 'kelurahan') AND valid_until IS NULL")
    datasets = await pool.fetchval("SELECT count(*) FROM registry.datasets "
                                   "WHERE retracted_at IS NULL")
    on_time = await pool.fetchval(
        """SELECT count(*) FROM (SELECT r.dataset_id, r.region_code FROM registry.records r
                                 WHERE r.period = '2026' AND r.status = 'current'
                                 GROUP BY 1, 2 HAVING min(r.created_at) <= $1::text::timestamptz) x""",
        DUE)
    fixes = await pool.fetchrow(
        """SELECT count(*) AS made, count(*) FILTER (WHERE reason IS NOT NULL) AS why
           FROM registry.record_versions WHERE version > 1
             AND recorded_at >= '2026-01-01 00:00+08' AND recorded_at < '2027-01-01 00:00+08'""")
    return {"units": units, "datasets": datasets, "on_time": on_time, "fixes": tuple(fixes)}


async def test_the_evidence_of_a_year_is_recomputed_from_the_records(client, registry,
                                                                    monkeypatch):
    monkeypatch.setenv("SATUDATA_TESTING", "1")
    monkeypatch.setenv("SATUDATA_NOW", "2027-04-15T10:00")  # 2026 is past due
    pool = registry["pool"]
    r = await client.post("/v1/datasets", headers=STEWARD, json=dataset_payload(
        OTHER, title="Jumlah sekolah (data contoh)", description=""))
    assert r.status_code in (200, 201), r.text
    r = await client.put(f"/v1/datasets/{OTHER}/verification-policy", headers=STEWARD,
                         json={"policy": "langsung", "outliers": False})
    assert r.status_code == 200, r.text
    async with pool.acquire() as conn, conn.transaction():
        await seed_sample_values(conn, "2026")
        await apply.apply_rows(conn, dataset_slug=OTHER, publisher_id="walidata", rows=[
            {"region": code, "period": "2026", "jumlah": 3}
            for code in ("64.08.04.2001", "64.08.04.2011")])
    async with pool.acquire() as conn, conn.transaction():  # a correction, without a reason
        await apply.apply_rows(conn, dataset_slug=OTHER, publisher_id="walidata", rows=[
            {"region": "64.08.04.2001", "period": "2026", "jumlah": 4}])

    r = await client.get("/v1/epss/evidence", params={"year": 2026}, headers=STEWARD)
    assert r.status_code == 200, r.text
    got = {i["indicator"]: i for i in r.json()["indicators"]}
    want = await _recount(pool)
    assert want["datasets"] == 2
    assert (got["tepat_waktu"]["numerator"], got["tepat_waktu"]["denominator"]) == (
        want["on_time"], 2 * want["units"])
    assert (got["koreksi_beralasan"]["denominator"], got["koreksi_beralasan"]["numerator"]) == \
        want["fixes"] == (1, 0)
    assert (got["metadata_standar"]["numerator"], got["metadata_standar"]["denominator"]) == (1, 2)
    assert {i["dataset"]: i["numerator"] for i in got["kelengkapan"]["items"]} == {
        "jumlah-penduduk": 1, OTHER: 0}
    assert {i["dataset"]: i["numerator"] for i in got["pemeriksaan"]["items"]} == {
        "jumlah-penduduk": 1, OTHER: 0}
    assert "uraian" in next(i for i in got["metadata_standar"]["items"]
                            if i["dataset"] == OTHER)["detail"]
    assert any("Kelembagaan" in t for t in r.json()["not_evidenced"])

    r = await client.put("/v1/epss/assessment/2026", headers=STEWARD, json={"items": [
        {"indicator": "tepat_waktu", "level": 3, "note": "contoh penilaian",
         "evidence": "/v1/epss/evidence?year=2026"},
        {"indicator": "lain:forum satu data", "level": 2}]})
    assert r.status_code == 200, r.text
    bad = await client.put("/v1/epss/assessment/2026", headers=STEWARD,
                           json={"items": [{"indicator": "skor_ajaib", "level": 5}]})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "unknown_indicator")
    r = await client.get("/v1/epss/evidence", params={"year": 2026, "format": "xlsx"},
                         headers=STEWARD)
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    summary = {row[0]: row[3:5] for row in book["Ringkasan"].iter_rows(values_only=True)
               if row and row[0] in got}
    assert summary == {k: (v["numerator"], v["denominator"]) for k, v in got.items()}
    assert [row[:2] for row in book["Penilaian mandiri"].iter_rows(min_row=2, values_only=True)
            ] == [("lain:forum satu data", 2), ("tepat_waktu", 3)]
    log = await pool.fetchval("SELECT count(*) FROM registry.audit_log WHERE action = "
                              "'epss.assess'")
    assert log == 1

    # the year's Daftar Data: fulfilled, late or missing, and the gap in the evidence
    item = {"producer": "Dinas contoh", "walidata": "Diskominfo Staper", "frequency": "annual"}
    r = await client.put("/v1/epss/plan/2026", headers=STEWARD, json={"items": [
        {**item, "title": "Jumlah penduduk per desa", "datasets": ["jumlah-penduduk"]},
        {**item, "title": "Jumlah sekolah per desa", "datasets": [OTHER]},
        {**item, "title": "Jumlah posyandu per desa", "datasets": []}]})
    assert r.status_code == 200, r.text
    assert [(i["title"], i["status"]) for i in r.json()["items"]] == [
        ("Jumlah penduduk per desa", "terpenuhi"), ("Jumlah sekolah per desa", "terlambat"),
        ("Jumlah posyandu per desa", "belum_ada")]
    unknown = await client.put("/v1/epss/plan/2026", headers=STEWARD, json={"items": [
        {**item, "title": "Data lain", "datasets": ["tidak-ada"]}]})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (422, "dataset_not_found")
    got = {i["indicator"]: i for i in (await client.get(
        "/v1/epss/evidence", params={"year": 2026}, headers=STEWARD)).json()["indicators"]}
    assert (got["daftar_data"]["numerator"], got["daftar_data"]["denominator"]) == (1, 3)
