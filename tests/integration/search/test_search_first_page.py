"""A ranked first page scores only the matches that can reach it: where at least a page's worth
of titles spell the query out (their fit is exactly 1, known without pg_trgm's extent search),
the others' trigram fit is computed only where their score without it could still reach the
page. The page must be exactly the best by the full score, whatever was skipped."""

from __future__ import annotations

import json

from services.search import indexing
from services.search.models import Filters
from services.search.query_text import parse_words, typo_candidates
from services.search.sql import facet_counts, facets, match, opening
from tests.integration.search.conftest import dataset, kutim_regions, record

FIRST = 21  # a page of 20 and one more (a next page)
KECAMATAN = ("64.08.04", "64.08.09")  # Sangatta Utara (a desa has its name too), Bengalon


async def _load(conn) -> None:
    regions = kutim_regions()
    places = [r.code for r in regions
              if r.code in KECAMATAN or r.parent_code in KECAMATAN]
    months = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]
    async with conn.transaction():
        await indexing.apply_regions(conn, regions)
        await indexing.apply_datasets(conn, [dataset("jumlah-penduduk", "Jumlah Penduduk")])
        await indexing.apply_records(conn, [
            record("jumlah-penduduk", code, month, 100 + i % 7, sex=sex)
            for i, (code, month, sex) in enumerate(
                (c, m, s) for c in places for m in months for s in ("L", "P"))])
    await conn.execute("ANALYZE documents")


async def _first_and_best(conn, text: str) -> tuple[list[str], list[str], dict, int]:
    """The counts' first page, the best FIRST matches by the full score (every match scored),
    the counting statement's plan, and how many titles spell the query out."""
    o = await opening.open_search(conn, 5000, typo_candidates(text), 0.45)
    snapshot = o.snapshot
    q = parse_words(text, True, o.fixes, complete=o.known, begins=o.begins)
    checked = (await facet_counts.words_of(conn, q, Filters())).common
    m = match.build(q, Filters(), snapshot, mode="ranked", checked=checked)
    assert m.record_spelled is not None, text  # (the shortcut applies to these queries)
    counts = await facets.count(conn, m, values_max=50, first_page=(2000, FIRST))
    r = match.build(q, Filters(), snapshot, mode="ranked", checked=checked, others=False)
    # (the query's whole tsquery is named, as the page does: a statement types every argument)
    matches = f"documents d, (SELECT {r.tsq} AS tsq) q WHERE {r.records}"
    best = [row["doc_id"] for row in await conn.fetch(
        f"SELECT d.doc_id FROM {matches} ORDER BY {r.record_score} DESC, d.doc_id "
        f"LIMIT {FIRST}", *r.sql.args)]
    spelled = await conn.fetchval(  # (the score named too: every argument typed)
        f"SELECT count(*) FILTER (WHERE {r.record_spelled} AND {r.record_score} > 0) "
        f"FROM {matches}", *r.sql.args)
    seen = []

    class Recording:
        async def fetchrow(self, sql, *args):
            seen.append((sql, args))
            return await conn.fetchrow(sql, *args)

    await facets.count(Recording(), m, values_max=50, first_page=(2000, FIRST))
    sql, args = seen[0]
    raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    assert counts.records <= 2000, text  # ranked: every match is scored
    return list(counts.first_ids or ()), best, plan, spelled


def _scored(plan: dict) -> list[int]:
    """Rows of the scan that keeps the hits whose trigram fit is computed (the prune's: a hit's
    bound at least the cut's, or -Infinity without one)."""
    out, todo = [], [plan]
    while todo:
        node = todo.pop()
        todo += node.get("Plans", [])
        if ">= COALESCE(" in node.get("Filter", "") and "'-Infinity'" in node["Filter"]:
            out.append(node["Actual Rows"])
    return out


async def test_a_ranked_first_page_is_the_best_by_the_full_score(search_db):
    async with search_db.acquire() as conn:
        await _load(conn)
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            # 48 titles of 2024 spell it out (the kecamatan's and its namesake desa's); the
            # other desa's, as new as those, are scored, the older ones cannot reach the page
            first, best, plan, spelled = await _first_and_best(
                conn, "penduduk sangatta utara 2024")
            assert first == best and len(first) == FIRST
            assert spelled >= FIRST
            hits = await conn.fetchval(
                "SELECT count(*) FROM documents WHERE kind = 'record' AND region_code LIKE "
                "'64.08.04%' AND period LIKE '2024%'")
            assert _scored(plan) and _scored(plan)[0] < hits  # some were never scored
            # every period (576 matches: the kecamatan and its 11 desa, 48 each): the 21st
            # spelled-out title is of 2024, the desa's titles of 2023 are not scored
            first, best, plan, spelled = await _first_and_best(conn, "jumlah penduduk bengalon")
            assert first == best and len(first) == FIRST
            assert spelled >= FIRST and _scored(plan)[0] <= 48 + 11 * 24
            # a level word lifts the desa (+1) above the kecamatan, whose titles are the only
            # ones spelled out: every desa title is scored, and the page is theirs
            first, best, plan, spelled = await _first_and_best(conn, "penduduk desa bengalon 2024")
            assert first == best and len(first) == FIRST
            assert spelled >= FIRST
            rows = await conn.fetch("SELECT region_code FROM documents "
                                    "WHERE doc_id = ANY($1::text[])", first)
            assert {r["region_code"].count(".") for r in rows} == {3}
            # no title spells it out (the sex comes after the period): every match is scored
            first, best, plan, spelled = await _first_and_best(
                conn, "penduduk bengalon 2024 laki")
            assert first == best and len(first) == FIRST
            assert spelled == 0
