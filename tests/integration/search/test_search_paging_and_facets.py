"""Facet counts against SQL, and cursor walks while records keep arriving."""

from __future__ import annotations

import asyncio

from services.search import answer_store, service
from services.search.cache import AnswerCache
from services.search.cursor import encode_cursor, query_hash
from services.search.models import PARTIAL, Cursor, Filters
from services.search.query_text import parse_words, typo_candidates
from services.search.sql import cells, facets, opening, page
from services.search.sql.match import tsquery_sql
from shared.sql import Where
from tests.helpers import eventually, signed
from tests.integration.search.conftest import dataset, kutim_regions, query, record

DESA = [r for r in kutim_regions() if r.level in ("desa", "kelurahan")]


async def _load(search_app, registry_bus):
    await registry_bus.regions(kutim_regions())
    await registry_bus.datasets(
        dataset("jumlah-penduduk", "Jumlah Penduduk"),
        dataset("jumlah-sekolah", "Jumlah Sekolah Dasar", topic="pendidikan",
                publisher="disdik"))
    records = [record(slug, r.code, period, i, sex=sex,
                      publisher="disdik" if slug == "jumlah-sekolah" else "disdukcapil")
               for i, r in enumerate(DESA)
               for slug in ("jumlah-penduduk", "jumlah-sekolah")
               for period in ("2023", "2024")
               for sex in (("L", "P") if slug == "jumlah-penduduk" else ("L",))]
    for start in range(0, len(records), 200):  # one event per chunk, as the registry sends
        await registry_bus.records(records[start:start + 200])

    async def all_in():
        r = await query(search_app["client"], limit=1)
        kinds = {f["value"]: f["count"] for f in r["facets"]["kind"]}
        assert kinds == {"record": len(records), "dataset": 2, "region": 160}, kinds
        return True
    await eventually(all_in, timeout=20)
    return records


async def test_facet_counts_equal_the_same_filter_in_sql(search_app, registry_bus):
    await _load(search_app, registry_bus)
    pool = search_app["pool"]
    r = await query(search_app["client"], q="sekolah", kind="record", period_from="2024")
    expected = await pool.fetch("""
        SELECT substr(region_code, 1, 8) AS kecamatan, count(*) AS n FROM records
        WHERE dataset = 'jumlah-sekolah' AND period >= '2024' GROUP BY 1""")
    got = {f["value"]: f["count"] for f in r["facets"]["kecamatan"]}
    assert got == {row["kecamatan"]: row["n"] for row in expected}
    assert r["total"] == sum(got.values())
    assert r["facets"]["dataset"] == [{"value": "jumlah-sekolah", "count": r["total"],
                                       "label": "Jumlah Sekolah Dasar"}]
    assert r["facets"]["period"] == [{"value": "2024", "count": r["total"], "label": None}]
    # whole index, no words: the kind facet is a plain count per kind
    r = await query(search_app["client"], region="64.08.02")
    rows = await pool.fetch("""
        SELECT kind, count(*) AS n FROM documents
        WHERE region_code = '64.08.02' OR region_code LIKE '64.08.02.%' GROUP BY kind""")
    assert {f["value"]: f["count"] for f in r["facets"]["kind"]} == {x["kind"]: x["n"]
                                                                     for x in rows}
    pub = {f["value"]: f["count"] for f in r["facets"]["publisher"]}
    rows = await pool.fetch("""
        SELECT publisher_id, count(*) AS n FROM records WHERE region_code LIKE '64.08.02.%'
        GROUP BY 1""")
    assert pub == {x["publisher_id"]: x["n"] for x in rows}


async def test_cursor_walk_with_concurrent_inserts_has_no_duplicates_or_gaps(
        search_app, registry_bus):
    await _load(search_app, registry_bus)
    c = search_app["client"]
    before = await c.get("/v1/search", params={"q": "penduduk", "kind": "record", "limit": 100})
    first = before.json()
    total = first["total"]
    # every id present when the walk begins, straight from the index
    rows = await search_app["pool"].fetch(
        "SELECT ref FROM documents WHERE kind = 'record' AND dataset = 'jumlah-penduduk'")
    expected_ids = {r["ref"] for r in rows}
    assert total == len(expected_ids)

    stop = asyncio.Event()

    async def keep_inserting():
        i = 0
        while not stop.is_set():
            await registry_bus.records([record("jumlah-penduduk", d.code, f"20{10 + i % 10}", i)
                                        for d in DESA[i % 7::7][:20]])
            i += 1
            await asyncio.sleep(0.02)

    writer = asyncio.create_task(keep_inserting())
    seen: list[str] = []
    params = {"q": "penduduk", "kind": "record", "limit": 37}
    try:
        while True:
            page = await query(c, **params)
            assert page["total"] == total  # the walk sees the index as it was when it began
            seen += [i["id"] for i in page["items"]]
            if len(seen) == 3 * 37:  # mid-walk: wait until new records are searchable
                async def grown():
                    return (await query(c, q="penduduk", kind="record", limit=1))["total"] > total
                await eventually(grown)
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
    finally:
        stop.set()
        await writer
    assert len(seen) == len(set(seen)), "duplicates"
    assert set(seen) == expected_ids, "gaps"
    later = await query(c, q="penduduk", kind="record", limit=1)
    assert later["total"] > total  # the inserts did land


async def test_cursor_from_another_query_is_refused(search_app):
    c = search_app["client"]
    page = await query(c, q="", limit=1)
    assert page["items"] == [] and page["next_cursor"] is None
    resp = await c.get("/v1/search", params={"q": "a", "cursor": "bm90LWEtY3Vyc29y"})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "invalid_cursor"


async def test_broad_query_skips_record_ranking_but_walks_cleanly_and_names_come_first(
        search_db, search_settings, registry_bus):
    import httpx

    from services.search.app import create_app
    from tests.helpers import served

    app = create_app(search_settings.model_copy(update={"rank_limit": 10}))
    async with served(app) as url, httpx.AsyncClient(base_url=url, auth=signed()) as c:
        records = await _load({"client": c}, registry_bus)
        first = await query(c, q="sangatta utara", limit=5)
        assert (first["items"][0]["kind"], first["items"][0]["id"]) == ("region", "64.08.04")
        seen, params = [], {"q": "penduduk", "limit": 50}
        while True:
            page = await query(c, **params)
            seen += [i["id"] for i in page["items"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        penduduk = {str(r.record_id) for r in records if r.dataset == "jumlah-penduduk"}
        assert len(seen) == len(set(seen)) and penduduk <= set(seen)


async def test_ranked_and_walked_records_give_the_same_set_along_whole_walks(search_app,
                                                                            registry_bus):
    """The page picks records by ranking every match (few) or walking them in static rank
    (many); either way a cursor walk visits every match once, and the counts are the same."""
    from services.search import service
    from services.search.cache import AnswerCache
    from services.search.models import Filters

    await _load(search_app, registry_bus)
    # newer records of one dataset at the top of the static rank: a walk for a word they lack
    # starts below them (ceiling.py) and must still visit every match
    newer = [record("jumlah-penduduk", r.code, "2031", i) for i, r in enumerate(DESA[:50])]
    await registry_bus.records(newer)

    async def newer_in():
        r = await query(search_app["client"], q="penduduk", period_from="2031")
        return r["total"] == len(newer)
    await eventually(newer_in)
    pool = search_app["pool"]
    async with pool.acquire() as conn:  # (the share that makes a word common is read from it)
        await conn.execute("ANALYZE documents")

    async def walk(q: str, f: Filters, rank_limit: int) -> list:
        pages, cursor = [], None
        while True:
            r = await service.search(pool, AnswerCache(0), q, f, limit=40, cursor=cursor,
                                     prefix=True, typo_similarity=0.45, facet_values_max=50,
                                     statement_timeout_ms=5000, rank_limit=rank_limit)
            pages.append(r.model_dump())
            cursor = r.next_cursor
            if not cursor:
                return pages

    cases = [("penduduk", Filters()), ("sangata utara", Filters()), ("", Filters()),
             ("sekolah", Filters(kind="record", period_from="2024")),
             ("jumlah", Filters(region="64.08.04")), ("sekolah", Filters()),
             # "penduduk" is in over 30 % of the documents: checked on the rows "sangatta" finds
             ("penduduk sangatta", Filters()), ("sangatta penduduk 2024", Filters()),
             # a walk under a period filter starts at its period's top rank (ceiling.py)
             ("", Filters(period_from="2023", period_to="2023")),
             ("penduduk", Filters(period_to="2024-Q1")), ("", Filters(period_to="2023-12")),
             ("sekolah", Filters(period_from="2023", period_to="2024", region="64.08.04"))]
    for q, f in cases:
        ranked, walked = await walk(q, f, 10**6), await walk(q, f, -1)
        for pages in (ranked, walked):
            ids = [i["url"] for p in pages for i in p["items"]]
            assert len(ids) == len(set(ids)) == pages[0]["total"], (q, f)
            assert pages[0]["exact"]
        assert ({i["url"] for p in ranked for i in p["items"]}
                == {i["url"] for p in walked for i in p["items"]}), (q, f)
        assert ranked[0]["facets"] == walked[0]["facets"]


async def test_above_the_exact_limit_counts_are_lower_bounds_flagged(search_app, registry_bus,
                                                                     monkeypatch):
    from services.search.sql import facets

    await _load(search_app, registry_bus)
    exact = await query(search_app["client"], q="penduduk", kind="record")
    assert exact["exact"] is True
    monkeypatch.setattr(facets, "EXACT_UP_TO", 5)
    bound = await query(search_app["client"], q="penduduk", kind="record", limit=7)  # uncached
    assert bound["exact"] is False and 5 < bound["total"] <= exact["total"]
    assert sum(v["count"] for v in bound["facets"]["kind"]) == bound["total"]
    assert bound["message"]


async def test_a_cached_answer_lapses_when_the_index_changes(search_app, registry_bus):
    records = await _load(search_app, registry_bus)
    c = search_app["client"]
    before = await query(c, q="penduduk", kind="record")
    assert await query(c, q="penduduk", kind="record") == before
    extra = record("jumlah-penduduk", "64.08.04.2001", "2031", 5)
    await registry_bus.records([extra])

    async def seen():
        r = await query(c, q="penduduk", kind="record")
        return r["total"] == before["total"] + 1
    await eventually(seen)
    assert len(records) > 0


async def test_a_partial_first_page_is_the_one_every_candidate_scored_gives(
        search_app, registry_bus, monkeypatch):
    """A partial answer scores titles only for the candidates that can reach the first page
    (page.py: the cut); that page is the one scoring every candidate gives (a
    cursor before every score admits them all and has no cut)."""
    records = await _load(search_app, registry_bus)
    pool = search_app["pool"]
    options = dict(prefix=True, typo_similarity=0.45, facet_values_max=50,
                   statement_timeout_ms=5000)
    texts = ("penduduk laki-laki kaliorang 2024 gajah", "sekolah sangatta 2023 perahu",
             "jumlah perempuan wahau 2024 kuda", "penduduk 2023 bengalon kapal")
    # every match a candidate, then the newest 300 (so that > 300 matches are "many" here)
    for candidates, text in [(n, t) for n in (page.PARTIAL_CANDIDATES, 300) for t in texts]:
        monkeypatch.setattr(page, "PARTIAL_CANDIDATES", candidates)
        first = await service.search(pool, AnswerCache(0), text, Filters(), limit=10,
                                     cursor=None, **options)
        assert first.partial and first.total > 300, (text, first.total)
        before_all = encode_cursor(Cursor(
            score=1e9, doc_id="", snapshot=2 ** 62, mode=PARTIAL,
            query_hash=query_hash(f"{text}\x00True\x00", Filters())))
        every = await service.search(pool, AnswerCache(0), text, Filters(), limit=10,
                                     cursor=before_all, **options)
        assert [(i.url, i.score) for i in first.items] == [
            (i.url, i.score) for i in every.items], text
    assert len(records) > 300


async def test_a_partial_answer_counts_its_widest_word_from_the_kept_counts(
        search_app, registry_bus, monkeypatch):
    """A partial answer whose words include one held by more than EXACT_UP_TO records counts
    that word's records from the kept counts (a lower bound, flagged), no longer the first
    EXACT_UP_TO + 1 matches it reads (EXACT_UP_TO is 10,000; 100 here, over ~850 records)."""
    await _load(search_app, registry_bus)
    monkeypatch.setattr(facets, "EXACT_UP_TO", 100)
    pool = search_app["pool"]
    text = "penduduk laki-laki kaliorang 2024 gajah"
    r = await service.search(pool, AnswerCache(0), text, Filters(), limit=10, cursor=None,
                             prefix=True, typo_similarity=0.45, facet_values_max=50,
                             statement_timeout_ms=5000)
    async with pool.acquire() as conn, conn.transaction():
        o = await opening.open_search(conn, 5000, typo_candidates(text), 0.45)
        q = parse_words(text, True, o.fixes, complete=o.known, begins=o.begins)
        per_word = []
        for i in range(len(q.groups)):
            sql = Where()
            tsq = tsquery_sql(q, sql, only=[i])
            per_word.append(await conn.fetchval(
                f"SELECT count(*) FROM documents d WHERE d.kind = 'record' AND d.tsv @@ {tsq}",
                *sql.args))
    assert r.partial and not r.exact and "gajah" in r.unmatched_words
    assert max(per_word) > 100
    assert {f.value: f.count for f in r.facets["kind"]}["record"] == max(per_word)


async def test_words_nothing_holds(search_app, registry_bus):
    """A word is held when a record's kept counts hold one of its lexemes, or a document holds
    it (a phrase only as a phrase; the last word also as the prefix typed)."""
    await _load(search_app, registry_bus)
    groups = [("penduduk", "warga"), ("gajah",), ("penduduk <-> sekolah",), ("sekolah <-> dasar",),
              ("2024",), ("1999",), ("kalio",)]
    async with search_app["pool"].acquire() as conn:
        assert await answer_store.words_nothing_holds(conn, groups, "kalio") == [1, 2, 5]
        assert await answer_store.words_nothing_holds(conn, groups, None) == [1, 2, 5, 6]


async def test_a_first_page_from_the_records_the_counts_chose_is_the_one_the_page_finds(
        search_app, registry_bus, monkeypatch):
    """The counts read every match up to EXACT_UP_TO, choose the records a first page can
    show (facets.count: the best ranked, or the first in static rank for a walk) and return
    that page (the record cells of an empty query under filters too: page.browse_first_page):
    no page statement follows. Its items and scores are the ones the page finds by
    itself (the counts choosing nothing), ranked and walked, with and without filters."""
    await _load(search_app, registry_bus)
    pool = search_app["pool"]
    used = []
    fetch = page.fetch

    async def spy(*args, **kwargs):
        used.append(True)
        return await fetch(*args, **kwargs)

    real_cells = cells.counts

    async def cells_without_page(*args, first=None, **kwargs):
        return await real_cells(*args, **kwargs)

    monkeypatch.setattr(page, "fetch", spy)
    kec, desa = "64.08.09", DESA[5].code
    asked = [("penduduk", Filters(region=kec)), ("sekolah", Filters(kind="record", region=desa)),
             ("penduduk laki-laki 2024", Filters()), ("jumlah penduduk bengalon", Filters()),
             ("", Filters(dataset="jumlah-penduduk", region=kec)),
             ("penduduk", Filters(period_from="2024", period_to="2024", region=kec)),
             ("sekolah 2023", Filters(publisher="disdik"))]
    # ranked (every match scored), then walked (more than 5 matches walk in static rank)
    for rank_limit, (text, filters) in [(n, a) for n in (2000, 5) for a in asked]:
        answers = []
        for choose in (True, False):
            if not choose:
                monkeypatch.setattr(facets, "_first_ids_sql", lambda *_: "NULL::text[]")
                monkeypatch.setattr(cells, "counts", cells_without_page)
            used.clear()
            r = await service.search(pool, AnswerCache(0), text, filters, limit=8, cursor=None,
                                     prefix=True, typo_similarity=0.45, facet_values_max=50,
                                     statement_timeout_ms=5000, rank_limit=rank_limit)
            # (an empty query under filters is counted from the kept cells, its first page
            # beside them: page.browse_first_page)
            assert used == ([] if choose else [True]), (text, filters)
            answers.append(([(i.url, i.score) for i in r.items], r.total, r.next_cursor))
            monkeypatch.undo()
            monkeypatch.setattr(page, "fetch", spy)
        assert answers[0][0] and answers[0] == answers[1], (text, filters, rank_limit)


async def test_a_first_page_beside_the_kept_counts_is_the_one_the_page_finds(
        search_app, registry_bus, monkeypatch):
    """Counts the indexer keeps (one word, a place's name, a prefix of one term) read no
    match; the first page comes with them from the same statement, built for the number of
    records they count: no page statement follows. Its items and scores are the ones the page
    statement finds, ranked and walked; a page built for another number is not used."""
    await _load(search_app, registry_bus)
    pool = search_app["pool"]
    used = []
    fetch, first_page = page.fetch, page.first_page

    async def spy(*args, **kwargs):
        used.append(True)
        return await fetch(*args, **kwargs)

    def built_for_another(m, mode, limit, records, few):
        return first_page(m, mode, limit, records + 1, few)

    monkeypatch.setattr(page, "fetch", spy)
    for rank_limit, text in [(n, t) for n in (2000, 5)
                             for t in ("penduduk", "kombeng", "sangatta utara", "pendud")]:
        answers = []
        for beside in (True, False):
            if not beside:
                monkeypatch.setattr(page, "first_page", built_for_another)
            used.clear()
            r = await service.search(pool, AnswerCache(0), text, Filters(), limit=8, cursor=None,
                                     prefix=True, typo_similarity=0.45, facet_values_max=50,
                                     statement_timeout_ms=5000, rank_limit=rank_limit)
            assert r.exact and used == ([] if beside else [True]), text
            answers.append(([(i.url, i.score) for i in r.items], r.total, r.next_cursor))
            monkeypatch.undo()
            monkeypatch.setattr(page, "fetch", spy)
        assert answers[0][0] and answers[0] == answers[1], (text, rank_limit)
