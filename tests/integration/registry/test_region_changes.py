"""Regions that change: a split, a merge and a code change dated 2025-01-01, entered through the
region import, and a monthly split on 1 July. Figures stay with the region valid in their
period; totals and completeness count the villages of each period once.

Every change here is sample data (contoh), entered with ``"sample": true``: no dated split or
merge of Kutai Timur can be confirmed offline."""

import io
from fractions import Fraction

import openpyxl

from services.registry.publishing import apply
from services.registry.regions import service as regions
from tests.helpers import dataset_payload
from tests.unit.test_privacy_suppression import _rank
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
KEC = "64.08.03"  # Muara Bengkal
SPLIT, MERGED, RECODED = "64.08.03.2001", ("64.08.03.2002", "64.08.03.2003"), "64.08.03.2004"
PARTS = ("64.08.03.2101", "64.08.03.2102")
MERGE_INTO, NEW_CODE = "64.08.03.2103", "64.08.03.1001"
DATED = "2025-01-01"


def _village(code, name, change, from_codes, level="desa", valid_from=DATED, **more):
    return {"code": code, "name": name, "level": level, "parent_code": KEC,
            "valid_from": valid_from, "change": change, "from_codes": from_codes, **more}


CHANGES = [
    _village(PARTS[0], "Senambah Hulu (contoh)", "pemekaran", SPLIT,
             decree_number="Perda contoh 1/2024", decree_date="2024-10-01"),
    _village(PARTS[1], "Senambah Hilir (contoh)", "pemekaran", SPLIT),
    _village(MERGE_INTO, "Ngayau Bengkal (contoh)", "penggabungan", list(MERGED)),
    _village(NEW_CODE, "Muara Bengkal Ulu", "perubahan_kode", RECODED, level="kelurahan"),
]


async def _apply(pool, rows, slug="jumlah-penduduk", dry_run=False, writer=None):
    writer = writer or ("disdukcapil" if slug == "jumlah-penduduk" else "walidata")
    async with pool.acquire() as conn, conn.transaction():
        outcome = await apply.apply_rows(conn, dataset_slug=slug, publisher_id=writer,
                                         rows=rows, dry_run=dry_run)
    return outcome


def _row(region, period, jumlah=100, sex="L"):
    return {"region": region, "period": period, "jenis_kelamin": sex, "jumlah": jumlah}


async def _stored(pool, period, slug="jumlah-penduduk"):
    rows = await pool.fetch(
        """SELECT r.region_code FROM registry.records r JOIN registry.datasets d
           ON d.id = r.dataset_id WHERE d.slug = $1 AND r.period = $2
           AND r.region_code LIKE '64.08.03.%' ORDER BY 1""", slug, period)
    return [r["region_code"] for r in rows]


async def test_split_merge_and_code_change_keep_each_figure_in_its_period(client, registry):
    pool = registry["pool"]
    old = [SPLIT, *MERGED, RECODED]
    await _apply(pool, [_row(c, "2023") for c in old])
    r = await client.post("/v1/publishers", headers=STEWARD, json={
        "id": "desa-senambah", "name": "Desa Senambah", "kind": "desa", "region_scope": SPLIT,
        "datasets": ["jumlah-penduduk"]})
    assert r.status_code == 201, r.text

    # the preview lists what each change touches and writes nothing
    r = await client.post("/v1/regions/import", params={"preview": "true"}, headers=STEWARD,
                          json={"rows": CHANGES, "sample": True})
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["preview"] is True
    kinds = {c["kind"]: c for c in preview["changes"]}
    assert set(kinds) == {"split", "merge", "code_change"}
    assert kinds["split"]["to_codes"] == list(PARTS)
    assert kinds["split"]["affects"]["records_before"] == 1
    assert kinds["merge"]["affects"]["records_before"] == 2
    assert kinds["split"]["affects"]["datasets"] == ["jumlah-penduduk"]
    assert [k["publisher_id"] for k in kinds["split"]["affects"]["keys"]] == ["desa-senambah"]
    assert "Pemekaran 64.08.03.2001 Senambah menjadi" in kinds["split"]["description"]
    assert "1 Januari 2025" in kinds["split"]["description"]
    assert (await client.get(f"/v1/regions/{PARTS[0]}")).status_code == 404

    r = await client.post("/v1/regions/import", headers=STEWARD,
                          json={"rows": CHANGES, "sample": True})
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["retired"]) == (4, 4)
    audit = await pool.fetch("SELECT target, details FROM registry.audit_log "
                             "WHERE action = 'region.change' ORDER BY id")
    assert len(audit) == 3

    # 2023 rows under each old code stay under that code
    outcome = await _apply(pool, [_row(c, "2023", 200, "P") for c in old])
    assert outcome.counts.rejected == 0, outcome.rejected
    assert await _stored(pool, "2023") == sorted(old * 2)
    # 2025: the split village's old code is refused naming both new codes; the merged and
    # recoded villages' old codes go to the code that replaced them
    outcome = await _apply(pool, [_row(SPLIT, "2025")])
    [refused] = outcome.rejected
    assert refused.code == "region_split"
    assert [s["code"] for s in refused.details["suggestions"]] == list(PARTS)
    assert all(code in refused.message for code in PARTS)
    outcome = await _apply(pool, [_row(MERGED[0], "2025", 50), _row(MERGED[1], "2025", 60, "P"),
                                  _row(RECODED, "2025", 70), *[_row(p, "2025", 40) for p in PARTS]])
    assert outcome.counts.rejected == 0, outcome.rejected
    assert await _stored(pool, "2025") == sorted([MERGE_INTO, MERGE_INTO, NEW_CODE, *PARTS])
    # a new code for a period before it existed is refused, naming the code valid then
    outcome = await _apply(pool, [_row(PARTS[0], "2023")])
    [refused] = outcome.rejected
    assert refused.code == "region_not_yet_valid" and SPLIT in refused.message
    assert [s["code"] for s in refused.details["suggestions"]] == [SPLIT]

    # a village key scoped to the split village keeps writing the periods before the split
    outcome = await _apply(pool, [_row(SPLIT, "2022")], writer="desa-senambah")
    assert outcome.counts.rejected == 0, outcome.rejected
    outcome = await _apply(pool, [_row(PARTS[0], "2025", 41)], writer="desa-senambah")
    assert [e.code for e in outcome.rejected] == ["region_out_of_scope"]
    # a later change of the ended code overlaps the split: refused
    later = [_village("64.08.03.2110", "Senambah Baru (contoh)", "code_change", SPLIT,
                      valid_from="2026-01-01")]
    r = await client.post("/v1/regions/import", params={"preview": "true"}, headers=STEWARD,
                          json={"rows": later, "sample": True})
    assert r.status_code == 422  # the split already ended it: overlapping dates are refused
    assert r.json()["error"]["details"][0]["code"] == "change_overlaps"

    # totals and completeness count the villages of each period once
    villages = await pool.fetchval(
        "SELECT count(*) FROM registry.regions WHERE parent_code = $1 AND valid_from IS NULL",
        KEC)
    for period, expected, value in (("2023", villages, 4 * 300), ("2025", villages, 260)):
        r = await client.get("/v1/aggregates", params={"dataset": "jumlah-penduduk",
                                                       "period": period, "region": KEC})
        body = r.json()
        assert (body["value"], body["reporting"], body["expected"]) == (value, 4, expected), \
            (period, body)
        units = {c["region"]["code"] for c in body["children"]}
        assert (set(old) <= units) == (period == "2023")
        assert (set(PARTS) <= units) == (period == "2025")
    c2023 = (await client.get("/v1/completeness", params={"dataset": "jumlah-penduduk",
                                                          "period": "2023", "region": KEC})).json()
    c2025 = (await client.get("/v1/completeness", params={"dataset": "jumlah-penduduk",
                                                          "period": "2025", "region": KEC})).json()
    codes23 = {u["code"] for u in c2023["regions"]}
    codes25 = {u["code"] for u in c2025["regions"]}
    assert set(old) <= codes23 and not codes23 & {*PARTS, MERGE_INTO, NEW_CODE}
    assert {*PARTS, MERGE_INTO, NEW_CODE} <= codes25 and not codes25 & set(old)
    assert c2023["reported"] == 4 and c2025["reported"] == 4

    # the region pages show the lineage both ways, and the change list says it is sample data
    old_page = (await client.get(f"/v1/regions/{SPLIT}")).json()
    assert [s["code"] for s in old_page["successors"]] == list(PARTS)
    assert old_page["valid_until"] == DATED
    new_page = (await client.get(f"/v1/regions/{MERGE_INTO}")).json()
    assert [p["code"] for p in new_page["predecessors"]] == list(MERGED)
    changes = (await client.get("/v1/regions/changes", params={"region": SPLIT})).json()
    [split] = changes["items"]
    assert split["sample"] and "[data contoh]" in split["description"]
    assert split["decree_number"] == "Perda contoh 1/2024"


async def test_a_monthly_dataset_follows_a_split_on_the_first_of_july(client, registry):
    pool = registry["pool"]
    r = await client.post("/v1/datasets", headers=STEWARD, json=dataset_payload(
        "kunjungan-bulanan", frequency="monthly",
        schema={"measures": [{"name": "jumlah", "label": "Jumlah", "additive": True}],
                "region_levels": ["desa", "kelurahan"]}))
    assert r.status_code in (200, 201), r.text
    old, parts = "64.08.03.2005", ("64.08.03.2104", "64.08.03.2105")
    rows = [_village(code, f"Benua Baru {n} (contoh)", "split", old, valid_from="2025-07-01")
            for n, code in zip(("Hulu", "Hilir"), parts)]
    r = await client.post("/v1/regions/import", headers=STEWARD,
                          json={"rows": rows, "sample": True})
    assert r.status_code == 200, r.text

    def row(region, period):
        return {"region": region, "period": period, "jumlah": 5}

    # June belongs to the old village (valid on 30 June), July to the new ones (valid on 31 July)
    outcome = await _apply(pool, [row(old, "2025-06"), row(parts[0], "2025-07"),
                                  row(parts[1], "2025-07")], slug="kunjungan-bulanan")
    assert outcome.counts.rejected == 0, outcome.rejected
    outcome = await _apply(pool, [row(old, "2025-07")], slug="kunjungan-bulanan")
    assert [e.code for e in outcome.rejected] == ["region_split"]
    outcome = await _apply(pool, [row(parts[0], "2025-06")], slug="kunjungan-bulanan")
    [refused] = outcome.rejected
    assert refused.code == "region_not_yet_valid" and old in refused.message
    for period, present, absent in (("2025-06", {old}, set(parts)),
                                    ("2025-07", set(parts), {old})):
        body = (await client.get("/v1/completeness", params={
            "dataset": "kunjungan-bulanan", "period": period, "region": KEC})).json()
        codes = {u["code"] for u in body["regions"]}
        assert present <= codes and not codes & absent
        assert body["reported"] == len(present)
    # timeliness expects the villages of each month
    for period, present, absent in (("2025-06", {old}, set(parts)),
                                    ("2025-07", set(parts), {old})):
        body = (await client.get("/v1/timeliness", params={
            "dataset": "kunjungan-bulanan", "period": period, "kecamatan": KEC})).json()
        codes = {u["code"] for p in body["items"] for u in p["regions"]}
        assert present <= codes and not codes & absent, (period, codes)
    # the dry run shows how each row's region resolved, as of its period
    outcome = await _apply(pool, [row(old, "2025-05")], slug="kunjungan-bulanan", dry_run=True)
    [shown] = outcome.diff
    assert (shown["region_written"], shown["region_code"], shown["region_as_of"]) == (
        old, old, "2025-05-31")


async def test_changes_are_checked_before_anything_is_written(client):
    bad = [
        _village("64.08.03.2106", "A", "split", "64.08.03.2013"),  # a split into one village
        _village("64.08.03.2107", "B", "merge", ["64.08.03.2014", "64.08.99.2001"]),
        _village("64.08.03.2108", "C", "code_change", "64.08.03.2013", valid_from=None),
        _village("64.08.03.2109", "D", "perubahan_kode", "64.08.03", level="desa"),
    ]
    r = await client.post("/v1/regions/import", headers=STEWARD, json={"rows": bad})
    assert r.status_code == 422
    codes = {d["code"] for d in r.json()["error"]["details"]}
    assert {"change_shape", "from_unknown", "change_date_required", "level_mismatch"} <= codes
    assert (await client.get("/v1/regions/64.08.03.2106")).status_code == 404


async def test_an_xlsx_import_enters_a_code_change(client, registry):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["code", "name", "level", "parent_code", "valid_from", "change", "from_codes",
                  "decree_number"])
    sheet.append(["64.08.03.1002", "Mulupan", "kelurahan", KEC, "2025-01-01",
                  "perubahan kode", "64.08.03.2013", "Kepmendagri contoh"])
    buffer = io.BytesIO()
    book.save(buffer)
    r = await client.post("/v1/regions/import", headers=STEWARD, files={"file": (
        "wilayah.xlsx", buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    assert r.status_code == 200, r.text
    assert r.json()["changes"][0]["kind"] == "code_change"
    region = (await client.get("/v1/regions/64.08.03.2013")).json()
    assert region["valid_until"] == "2025-01-01" and region["successor_code"] == "64.08.03.1002"


async def test_the_reference_data_loads_its_known_changes_once(client, registry):
    """Singa Geweh's change from desa to kelurahan and six villages created since 2015 are in
    the shipped reference data without a date: loaded as changes with what is known."""
    changes = (await client.get("/v1/regions/changes")).json()["items"]
    reference = [c for c in changes if c["source"].startswith("data referensi")]
    assert sorted(c["kind"] for c in reference) == ["code_change"] + ["creation"] * 6
    assert all(c["effective"] is None and not c["sample"] for c in reference)
    page = (await client.get("/v1/regions/64.08.12.1002")).json()
    [change] = page["changes"]
    assert change["from_codes"] == ["64.08.12.2002"]
    assert "tanggal tidak diketahui" in change["description"]
    async with registry["pool"].acquire() as conn, conn.transaction():
        assert (await regions.load_reference(conn))["region_changes"] == 0  # once
        assert (await regions.resolve_cells(conn, None, ["64.08.12.2002"])) == {
            "64.08.12.2002": "64.08.12.1002"}


async def test_a_comparable_series_sums_the_successors_and_hides_what_would_reveal_a_cell(
        client, registry):
    """Sample values (contoh) for a sensitive dataset: village 2101 reports 3 men in 2025,
    after its parent village's split. Every public figure of 2025 (per village, the
    kecamatan, the kabupaten, and the comparable series of the old village) is collected,
    and no hidden cell can be solved from them (a rank test over the hidden cells)."""
    pool = registry["pool"]
    r = await client.post("/v1/regions/import", headers=STEWARD,
                          json={"rows": CHANGES[:2], "sample": True})
    assert r.status_code == 200, r.text
    values = {(SPLIT, "2023"): (30, 31), (PARTS[0], "2025"): (3, 40),
              (PARTS[1], "2025"): (12, 15), ("64.08.03.2013", "2025"): (21, 22),
              ("64.08.03.2014", "2025"): (25, 26), ("64.08.01.2001", "2025"): (30, 31)}
    outcome = await _apply(pool, [_row(code, period, n, sex)
                                  for (code, period), pair in values.items()
                                  for sex, n in zip("LP", pair)])
    assert outcome.counts.rejected == 0, outcome.rejected

    series = (await client.get("/v1/aggregates", params={
        "dataset": "jumlah-penduduk", "region": SPLIT, "comparable": "true"})).json()
    by_period = {p["period"]: p for p in series["periods"]}
    assert by_period["2023"]["parts"] == [SPLIT] and by_period["2023"]["value"] == 61
    assert by_period["2025"]["parts"] == list(PARTS) and by_period["2025"]["value"] == 70
    assert "pemekaran" in series["comparable"]["method"]

    r = await client.put("/v1/datasets/jumlah-penduduk/privacy", headers=STEWARD,
                         json={"sensitive": True, "k": 5})
    assert r.status_code == 200, r.text
    cells = [(code, sex) for (code, period), _ in values.items() if period == "2025"
             for sex in "LP"]
    published: list[tuple[set, object]] = []  # (cells summed, what the public sees)
    comparable: list[tuple[set, object]] = []
    for sex in ("L", "P", None):
        dims = {"jenis_kelamin": sex} if sex else {}
        sexes = [sex] if sex else ["L", "P"]
        for region in ("64.08", KEC, "64.08.01"):
            body = (await client.get("/v1/aggregates", params={
                "dataset": "jumlah-penduduk", "period": "2025", "region": region,
                **dims})).json()
            published.append(({c for c in cells if c[0].startswith(region + ".")
                               and c[1] in sexes}, body["value"]))
            for child in body["children"]:
                code = child["region"]["code"]
                published.append(({c for c in cells if c[0].startswith(code) and
                                   c[1] in sexes}, child["value"]))
        for region in (SPLIT, PARTS[0]):
            body = (await client.get("/v1/aggregates", params={
                "dataset": "jumlah-penduduk", "region": region, "comparable": "true",
                "period": "2025", **dims})).json()
            [p] = body["periods"]
            members = {c for c in cells if c[0] in PARTS and c[1] in sexes}
            published.append((members, p["value"]))
            comparable.append((members, p["value"]))
    hidden = sorted({c for members, value in published if len(members) == 1
                     and isinstance(value, dict) for c in members})
    assert (PARTS[0], "L") in hidden  # the small count itself is hidden
    # the men's comparable figure has a hidden part (village 2101's 3): it is hidden too
    assert all(isinstance(v, dict) for m, v in comparable if m == {(p, "L") for p in PARTS})
    rows = [[Fraction(1 if c in members else 0) for c in hidden]
            for members, value in published if not isinstance(value, dict) and members]
    full = _rank(rows)
    solvable = [c for i, c in enumerate(hidden)
                if _rank([r[:i] + r[i + 1:] for r in rows]) < full]
    assert solvable == [], solvable


async def test_records_an_earlier_rule_stored_under_a_successor_are_listed_and_moved(
        client, registry):
    """Before the period rule, a 2023 row under a retired code was followed to its successor.
    Those records are listed with the codes in force in their period and moved by the
    walidata: written there through the apply path, the misplaced one withdrawn with the
    reason, one audit entry per move; ambiguous (a merge) and taken targets are refused."""
    pool = registry["pool"]
    r = await client.post("/v1/regions/import", headers=STEWARD,
                          json={"rows": CHANGES, "sample": True})
    assert r.status_code == 200, r.text
    old = [SPLIT, MERGED[0], RECODED]
    outcome = await _apply(pool, [_row(c, "2023", 100 + i) for i, c in enumerate(old)])
    assert outcome.counts.rejected == 0, outcome.rejected
    # as the earlier rule stored them: under the successor, whatever the period
    for was, now in ((SPLIT, PARTS[0]), (MERGED[0], MERGE_INTO), (RECODED, NEW_CODE)):
        await pool.execute("UPDATE registry.records SET region_code = $2 "
                           "WHERE region_code = $1 AND period = '2023'", was, now)
    listed = (await client.get("/v1/regions/misplaced", headers=STEWARD)).json()["items"]
    by_code = {i["region_code"]: i for i in listed}
    assert set(by_code) == {PARTS[0], MERGE_INTO, NEW_CODE}
    assert (by_code[PARTS[0]]["candidates"], by_code[PARTS[0]]["target"]) == ([SPLIT], SPLIT)
    assert (by_code[NEW_CODE]["target"], by_code[MERGE_INTO]["target"]) == (RECODED, None)
    assert by_code[MERGE_INTO]["candidates"] == sorted(MERGED)
    assert (await client.get("/v1/regions/misplaced")).status_code in (401, 403)

    r = await client.post("/v1/regions/misplaced/move", headers=STEWARD, json={"moves": [
        {"record_id": by_code[c]["record_id"]} for c in (PARTS[0], NEW_CODE, MERGE_INTO)]})
    assert r.status_code == 200, r.text
    result = r.json()
    assert {(m["from_code"], m["to"]) for m in result["moved"]} == {(PARTS[0], SPLIT),
                                                                    (NEW_CODE, RECODED)}
    [refused] = result["refused"]
    assert refused["code"] == "relocation_target_invalid" and MERGED[1] in refused["message"]
    current = await pool.fetch("SELECT region_code FROM registry.records WHERE period = "
                               "'2023' AND status = 'current' ORDER BY 1")
    assert [r["region_code"] for r in current] == sorted([SPLIT, MERGE_INTO, RECODED])
    moved_back = await pool.fetchrow(
        "SELECT r.vals, r.status FROM registry.records r WHERE r.region_code = $1 "
        "AND r.period = '2023'", SPLIT)
    assert (moved_back["vals"], moved_back["status"]) == ({"jumlah": 100}, "current")
    gone = await pool.fetchrow("SELECT status FROM registry.records WHERE region_code = $1",
                               PARTS[0])
    assert gone["status"] == "retracted"
    audit = await pool.fetch("SELECT details FROM registry.audit_log "
                             "WHERE action = 'region.relocate' ORDER BY id")
    assert [(a["details"]["from"], a["details"]["to"]) for a in audit] == [
        (PARTS[0], SPLIT), (NEW_CODE, RECODED)]
    assert audit[0]["details"]["original_publisher"] == "disdukcapil"

    # the merge: the walidata names the code; a target already holding a value is refused
    await _apply(pool, [_row(MERGED[1], "2023", 999)])
    left = (await client.get("/v1/regions/misplaced", headers=STEWARD)).json()["items"]
    assert [i["region_code"] for i in left] == [MERGE_INTO]
    taken = await client.post("/v1/regions/misplaced/move", headers=STEWARD, json={"moves": [
        {"record_id": left[0]["record_id"], "to": MERGED[1]}]})
    assert taken.json()["refused"][0]["code"] == "relocation_target_taken"
    done = await client.post("/v1/regions/misplaced/move", headers=STEWARD, json={
        "moves": [{"record_id": left[0]["record_id"], "to": MERGED[0]}],
        "note": "Dicocokkan dengan register desa (contoh)."})
    assert [m["to"] for m in done.json()["moved"]] == [MERGED[0]]
    assert (await client.get("/v1/regions/misplaced", headers=STEWARD)).json()["items"] == []
