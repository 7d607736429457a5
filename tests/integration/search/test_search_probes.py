"""The probes an answer makes on the side read a record or two, not a dataset's or a place's
records: checked by what PostgreSQL's own EXPLAIN ANALYZE says each statement read, on a few
thousand records (the same statements read 622 ms and 5,841 records at 1,000,000 when the
dataset column was compared in `datasets.slug`'s collation, which no index can serve)."""

from __future__ import annotations

import json
import re

from services.search import answer_store, asked, indexing
from services.search.sql import opening
from services.search.query_text import parse_words, typo_candidates
from tests.integration.search.conftest import dataset, kutim_regions, record

PROBE_INDEXES = {"documents_region", "documents_dataset"}


class Recording:
    """A connection that remembers the statements run through it."""

    def __init__(self, conn):
        self.conn, self.statements = conn, []

    async def fetch(self, sql, *args):
        self.statements.append((sql, args))
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql, *args):
        self.statements.append((sql, args))
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql, *args):
        self.statements.append((sql, args))
        return await self.conn.fetchval(sql, *args)


def _read_by_probes(plan: dict) -> list[float]:
    """Per probe (a loop of a scan of a probe index): the records it returned or dropped (the
    plan's figures are per loop)."""
    out, todo = [], [plan]
    while todo:
        node = todo.pop()
        todo += node.get("Plans", [])
        if node.get("Index Name") in PROBE_INDEXES:
            out += [node["Actual Rows"] + node.get("Rows Removed by Filter", 0)] \
                * node["Actual Loops"]
    return out


async def _explained(conn, sql: str, args) -> str:
    """EXPLAIN ANALYZE of a statement; of one calling `search.dataset_measured_at`, of the
    query inside the function, planned as the function plans it (one generic plan)."""
    called = re.fullmatch(r"\s*SELECT .* FROM dataset_measured_at\((.*)\)\s*", sql, re.S)
    if called is None:
        return await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
    q, region = await conn.fetchrow(f"SELECT {called.group(1)}", *args)
    body = await conn.fetchval("SELECT prosrc FROM pg_proc WHERE proname = 'dataset_measured_at'")
    query = re.search(r"RETURN QUERY(.*?);\s*END", body, re.S).group(1)
    await conn.execute("PREPARE measured(tsquery, text) AS "
                       + re.sub(r"\bq\b", "$1", re.sub(r"\bregion\b", "$2", query)))
    try:
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        explain = await conn.fetchval(  # (EXECUTE takes no protocol arguments: literals)
            "SELECT format('EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE measured(%L, %L)', "
            "$1::text, $2::text)", str(q), region)
        return await conn.fetchval(explain)
    finally:
        await conn.execute("DEALLOCATE measured")


async def _probes(conn, statements) -> list[float]:
    read = []
    for sql, args in statements:
        raw = await _explained(conn, sql, args)
        read += _read_by_probes((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"])
    return read


async def test_side_probes_read_a_record_each(search_db):
    regions = kutim_regions()
    villages = [r for r in regions if r.level in ("desa", "kelurahan")]
    slugs = ["angkatan-kerja", "jumlah-penduduk", "jumlah-sekolah"]  # the one asked for last
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    async with search_db.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, regions)
            await indexing.apply_datasets(conn, [
                dataset(s, s.replace("-", " ").title()).model_copy(update={"frequency": "monthly"})
                for s in slugs])
            await indexing.apply_records(conn, [record(s, v.code, m, 1)
                                                for s in slugs for v in villages for m in months])
        await conn.execute("ANALYZE documents")
        async with conn.transaction(readonly=True, isolation="repeatable_read"):
            text = "sekolah kongbeng"
            o = await opening.open_search(conn, 5000, typo_candidates(text), 0.45)
            q = parse_words(text, True, o.fixes, complete=o.known, begins=o.begins)
            seen = Recording(conn)
            place = await answer_store.place_named(conn, *asked.place_lookup(q))
            figure = await asked.asked_figure(seen, q, place)
            assert figure is not None and figure.dataset == "jumlah-sekolah"
            assert figure.region_name == "Kombeng"  # (typed as the statistics agency spells it)
            await answer_store.datasets_for_currency(seen)
            read = await _probes(conn, seen.statements)
    # two probes for the figure (the place's own code, then its villages), one per dataset for
    # the newest period; each stops at the first record it meets
    assert len(read) == 2 + len(slugs)
    assert max(read) <= 1, read
