"""Browsing an older period walks the records in static rank from that period's top rank, not
from the newest record down (sample data, contoh): its first page reads a page's worth of
records, however many newer ones the index holds. That every match is still visited is
test_search_paging_and_facets' (whole walks, ranked and walked, the same set)."""

from __future__ import annotations

import json

from services.search import indexing
from services.search.models import WALK, Filters
from services.search.query_text import parse_words
from services.search.sql import match, page
from tests.integration.search.conftest import dataset, kutim_regions, record

DESA = [r.code for r in kutim_regions() if r.level == "desa"][:40]
PAGE = 21


def _index_rows(plan: dict) -> list[int]:
    """Rows each scan of the static-rank walk index read (returned, and passed over)."""
    out, todo = [], [plan]
    while todo:
        node = todo.pop()
        todo += node.get("Plans", [])
        if node.get("Index Name") == "documents_record_walk":
            out.append(node["Actual Rows"] + node.get("Rows Removed by Filter", 0))
    return out


async def test_an_older_period_is_walked_from_its_own_top_rank(search_db):
    async with search_db.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, kutim_regions())
            await indexing.apply_datasets(conn, [dataset("jumlah-penduduk", "Jumlah Penduduk")])
            await indexing.apply_records(conn, [
                record("jumlah-penduduk", code, f"{year}-{month:02d}", 1, sex=sex)
                for year in (2021, 2022, 2023) for month in range(1, 13)
                for code in DESA for sex in ("L", "P")])
        await conn.execute("ANALYZE documents")
        snapshot = await conn.fetchval("SELECT max(created_seq) FROM documents")
        read = {}
        for label, f, first in (
                ("2021", Filters(period_from="2021", period_to="2021"), "2021-12"),
                ("to 2021-03", Filters(period_to="2021-03"), "2021-03"),
                ("2023", Filters(period_from="2023", period_to="2023"), "2023-12")):
            m = match.build(parse_words("", True, {}), f, snapshot, mode=WALK, others=False)
            sql = page._records(m, WALK, None, m.sql.param(PAGE), False)
            async with conn.transaction():  # (the walk the index gives: a 2,880-row table
                await conn.execute("SET LOCAL enable_seqscan = off")  # is sorted otherwise)
                await conn.execute("SET LOCAL enable_bitmapscan = off")
                raw = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *m.sql.args)
                rows = await conn.fetch(sql, *m.sql.args)
            read[label] = _index_rows((json.loads(raw) if isinstance(raw, str) else raw)[0]
                                      ["Plan"])
            periods = {await conn.fetchval("SELECT period FROM documents WHERE doc_id = $1",
                                           r["doc_id"]) for r in rows}
            assert (len(rows), periods) == (PAGE, {first}), label  # its newest month first
    # 2,880 newer records of 2022 and 2023 above 2021's: none of them read
    assert read == {"2021": [PAGE], "to 2021-03": [PAGE], "2023": [PAGE]}, read
