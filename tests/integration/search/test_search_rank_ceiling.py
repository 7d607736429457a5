"""A walk's rank ceiling from `search.rank_ceiling` (migration 0022, planned once per session)
is the one the nested SQL gave (its copy below, the test's reference) for words, several
words, prefixes (a counted term's, a number's, one that begins nothing) and words not counted
(sample data, contoh)."""

from __future__ import annotations

import re

from services.search import indexing, service
from services.search.cache import AnswerCache
from services.search.models import Filters
from services.search.query_text import parse_words
from services.search.sql.ceiling import _rank_top, rank_ceiling_sql
from shared.sql import Where
from tests.integration.search.conftest import dataset, kutim_regions, record

# the SQL migration 0022 replaced (sql/ceiling.py before it), for reference
_TERM_TOP = f"""(SELECT CASE WHEN count(*) = 0 THEN '-Infinity'::real
                            WHEN max(f.value) ~ '^[0-9]{{4}}'
                            THEN {_rank_top("left(max(f.value), 4)::int", "12")} END
                FROM facet_counts f
                WHERE f.term = t.term AND f.facet = 'period' AND f.n > 0)"""


def _group_top(words, prefix, arg) -> str:
    # (a number typed as a prefix tested first: before 0022 its words were named as an
    # argument the SQL then left unused, an untyped $n: "penduduk 20" answered 500)
    if prefix is not None and re.fullmatch(r"[0-9]+", prefix):
        return "NULL::real"
    terms = f"SELECT unnest(tsvector_to_array(to_tsvector('indonesian', {arg(' '.join(words))})))"
    if prefix is not None:
        terms += (f" UNION SELECT f.term FROM facet_counts f "
                  f"WHERE f.term LIKE {arg(prefix + '%')} AND f.facet = 'kind'")
    return f"""(SELECT CASE WHEN bool_and(counted_term(t.term) AND x.top IS NOT NULL)
                           THEN max(x.top) END
               FROM ({terms}) t(term) CROSS JOIN LATERAL (SELECT {_TERM_TOP} AS top OFFSET 0) x)"""


def _nested_sql(q, arg) -> str:
    groups = list(q.groups)
    tops = [_group_top(g, q.prefix if i == len(groups) - 1 else None, arg)
            for i, g in enumerate(groups)]
    if not tops:
        return "'Infinity'::real"
    return ("(SELECT coalesce(min(g.top), 'Infinity'::real) FROM (VALUES "
            + ", ".join(f"({t})" for t in tops) + ") g(top))")


QUERIES = ["penduduk", "sekolah", "kombeng", "sangatta utara", "jumlah penduduk bengalon",
           "puskes", "sekol", "penduduk 20", "penduduk 2023", "muara wah", "zzqx", "sekolah zzq",
           "padi sawah", "jembatan desa bengalon 2023", "dan", "penduduk yang"]


async def test_the_function_gives_the_nested_sqls_ceiling(search_db):
    regions = kutim_regions()
    villages = [r.code for r in regions if r.level in ("desa", "kelurahan")][:12]
    async with search_db.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, regions)
            await indexing.apply_datasets(conn, [
                dataset("jumlah-penduduk", "Jumlah Penduduk"),
                dataset("jumlah-sekolah", "Jumlah Sekolah", topic="pendidikan"),
                dataset("jumlah-puskesmas", "Jumlah Puskesmas", topic="kesehatan")])
            await indexing.apply_records(conn, [
                record(slug, code, period, 1)
                for slug, periods in (("jumlah-penduduk", ("2023-06", "2024-12")),
                                      ("jumlah-sekolah", ("2019-01", "2021-03")),
                                      ("jumlah-puskesmas", ("2016-05",)))
                for code in villages for period in periods])
        bounded = 0
        for text in QUERIES:
            for prefix in (True, False):
                q = parse_words(text, prefix, {})
                old, new = Where(), Where()
                want = await conn.fetchval(f"SELECT {_nested_sql(q, old.param)}", *old.args)
                got = await conn.fetchval(f"SELECT {rank_ceiling_sql(q, new.param)}", *new.args)
                assert got == want, (text, prefix, q.prefix)
                bounded += want is not None and want != float("inf")
        assert bounded >= 10  # (most of them are bounded: the comparison is not of Infinity)


async def test_a_number_typed_last_is_answered(search_db):
    """ "penduduk 20": the number typed last is a prefix, which bounds no walk; the nested
    SQL named its words as an argument it then left unused, and the statement failed
    (IndeterminateDatatypeError, a 500)."""
    async with search_db.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, kutim_regions())
            await indexing.apply_datasets(conn, [dataset("jumlah-penduduk", "Jumlah Penduduk")])
            await indexing.apply_records(conn, [
                record("jumlah-penduduk", "64.08.09.2001", f"2024-{m:02d}", m)
                for m in range(1, 13)])
    for text in ("penduduk 20", "penduduk 202", "jumlah penduduk 20"):
        seen, cursor = [], None
        while True:  # (walked, as when thousands match; a later page walks from its cursor)
            answer = await service.search(search_db, AnswerCache(0), text, Filters(), limit=5,
                                          cursor=cursor, prefix=True, typo_similarity=0.45,
                                          facet_values_max=50, statement_timeout_ms=5000,
                                          rank_limit=4)
            seen += [i.id for i in answer.items if i.kind == "record"]
            if not (cursor := answer.next_cursor):
                break
        # (every record is of 2024, which both numbers begin)
        assert len(seen) == len(set(seen)) == 12, text
