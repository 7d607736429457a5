"""Browsing (an empty query under the portal's filters) lists the newest records first however
many match, and one dataset in one kecamatan is answered from one statement that walks its own
index (search migration 0019) for the page, beside the counts of the record cells (sample
data, contoh)."""

from __future__ import annotations

import json

from services.search import indexing, service
from services.search.cache import AnswerCache
from services.search.models import Filters
from shared.db import create_pool
from tests.integration.search.conftest import dataset, kutim_regions, record

REGIONS = kutim_regions()
KECAMATAN = "64.08.09"  # Bengalon: 11 desa
DESA = [r.code for r in REGIONS if r.parent_code in (KECAMATAN, "64.08.04")]
PER_MONTH = 2 * sum(r.parent_code == KECAMATAN for r in REGIONS)  # a dataset's, L and P
MONTHS = [f"{y}-{m:02d}" for y in (2021, 2022, 2023, 2024) for m in range(1, 13)]
OPTIONS = dict(prefix=True, typo_similarity=0.45, facet_values_max=50,
               statement_timeout_ms=5000)


async def _load(pool) -> None:
    async with pool.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, REGIONS)
            await indexing.apply_datasets(conn, [
                dataset("jumlah-penduduk", "Jumlah Penduduk"),
                dataset("jumlah-sekolah", "Jumlah Sekolah", topic="pendidikan")])
            await indexing.apply_records(conn, [
                record(slug, code, month, 1, sex=sex)
                for slug in ("jumlah-penduduk", "jumlah-sekolah") for code in DESA
                for month in MONTHS for sex in ("L", "P")])
        await conn.execute("ANALYZE documents")


async def _walk(pool, f: Filters) -> list[dict]:
    items, cursor = [], None
    while True:
        r = await service.search(pool, AnswerCache(0), "", f, limit=100, cursor=cursor,
                                 **OPTIONS)
        items += r.model_dump()["items"]
        cursor = r.next_cursor
        if not cursor:
            return items


async def test_browsing_lists_the_newest_records_first_however_many_match(search_db):
    await _load(search_db)
    desa = DESA[0]
    for f, where in (  # (the few are ranked, the many walked: the same order)
            (Filters(dataset="jumlah-penduduk", region=desa), ("jumlah-penduduk", desa)),
            (Filters(dataset="jumlah-penduduk", region=KECAMATAN),
             ("jumlah-penduduk", KECAMATAN + ".%")),
            (Filters(dataset="jumlah-sekolah", period_from="2023", period_to="2023"),
             ("jumlah-sekolah", "%")),
            (Filters(region=KECAMATAN), ("%", KECAMATAN + ".%"))):
        items = await _walk(search_db, f)
        expected = await search_db.fetch(
            "SELECT ref, period FROM documents WHERE kind = 'record' AND dataset LIKE $1 "
            "AND region_code LIKE $2 AND period LIKE $3 ORDER BY period DESC",
            *where, "2023%" if f.period_from else "%")
        records = [i for i in items if i["kind"] == "record"]
        assert sorted(i["id"] for i in records) == sorted(r["ref"] for r in expected), f
        # newest first across every page (the old ranked browse went by id: any period first)
        assert [i["period"] for i in records] == [r["period"] for r in expected], f


async def test_one_dataset_in_one_kecamatan_is_one_statement_walking_its_own_index(
        search_db, database_url):
    await _load(search_db)
    pool = await create_pool(database_url, "search", max_size=1, session_state=False)
    try:
        sent = []
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda q: sent.append((q.query, q.args)))
        f = Filters(dataset="jumlah-penduduk", region=KECAMATAN)
        r = await service.search(pool, AnswerCache(0), "", f, limit=20, cursor=None, **OPTIONS)
        reading = [(sql, args) for sql, args in sent if "documents" in sql]
        matches = await pool.fetchval(
            "SELECT count(*) FROM documents WHERE kind = 'record' AND dataset = $1 "
            "AND region_code LIKE $2", "jumlah-penduduk", KECAMATAN + ".%")
        assert (r.total, r.exact, len(r.items)) == (matches, True, 20)
        assert {i.period for i in r.items} == {MONTHS[-1]}  # (22 a month in the kecamatan)
        assert len(reading) == 1, [s[:60] for s, _ in reading]  # counts and page together
        sql, args = reading[0]
        async with pool.acquire() as conn:
            raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
        read, todo = [], [(json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]]
        while todo:
            node = todo.pop()
            todo += node.get("Plans", [])
            if node.get("Index Name") == "documents_dataset_kecamatan_walk":
                read.append(node["Actual Rows"] + node.get("Rows Removed by Filter", 0))
        # the newest month's records and the next month's first (where the ties end), not
        # the kecamatan's every record of the dataset
        assert len(read) == 1 and read[0] <= 2 * PER_MONTH + 1 < matches, (read, matches)
    finally:
        await pool.close()


async def test_only_records_asked_for_plans_no_region_or_dataset(search_db, database_url):
    """A kind=record filter: regions and datasets cannot match, so the statement names none
    (match.NO_OTHERS, nothing to plan); the answer is the records' part of the unfiltered
    one, and every item a record."""
    await _load(search_db)
    pool = await create_pool(database_url, "search", max_size=1, session_state=False)
    try:
        sent: list[str] = []
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda q: sent.append(q.query))
        for text in ("", "penduduk", "bengalon", "sekolah bengalon 2024", "jumlah pendudu"):
            for region in (None, KECAMATAN, DESA[0]):
                every = await service.search(pool, AnswerCache(0), text, Filters(region=region),
                                             limit=20, cursor=None, **OPTIONS)
                sent.clear()
                only = await service.search(pool, AnswerCache(0), text,
                                            Filters(kind="record", region=region),
                                            limit=20, cursor=None, **OPTIONS)
                records = {f.value: f.count for f in every.facets["kind"]}.get("record", 0)
                assert only.total == records, (text, region)
                assert {i.kind for i in only.items} <= {"record"}
                assert len(only.items) == min(20, records), (text, region)
                listed = [i.id for i in every.items if i.kind == "record"]
                assert [i.id for i in only.items][:len(listed)] == listed, (text, region)
                main = max(sent, key=len)
                assert "d.kind <> 'record'" not in main, (text, region)
    finally:
        await pool.close()
