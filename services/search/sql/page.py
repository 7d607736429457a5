"""One page of a match, in (score desc, doc_id) order: the third named part of a search.

The page is chosen from a bounded, well-ordered candidate set, never by ranking every match:
regions and datasets (few) are always ranked; records are ranked only when few match
(RANKED), walked in their stored static rank when many do (WALK), and for a partial answer
(PARTIAL) at most PARTIAL_CANDIDATES of them (the newest, and the newest of a year the query
names) are ranked by how many words they match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.search.sql.match import Match, _json, of_year_sql
from services.search.models import PARTIAL, RANKED, WALK, Cursor, ParsedQuery

RANK_ALL_UP_TO = 2_000       # estimated record matches up to which every one is ranked
PARTIAL_CANDIDATES = 2_000   # records ranked for a partial answer when more match
BOUND_MARGIN = 1.001         # a title fit is at most 1 (and float rounding far below 0.001)
BEST_FIRST = 4               # pages' worth of partial candidates scored to set the cut


def mode_for(estimate: float, rank_limit: int = RANK_ALL_UP_TO) -> str:
    """Every match ranked when the planner expects few; a walk in static rank otherwise."""
    return RANKED if estimate <= rank_limit else WALK


def _keyset(m: Match, cursor: Cursor | None) -> str:
    if cursor is None:
        return "true"
    s, i = m.sql.param(cursor.score), m.sql.param(cursor.doc_id)
    return f"(x.score < {s} OR (x.score = {s} AND x.doc_id > {i}))"


def _records(m: Match, mode: str, cursor: Cursor | None, limit: str, partial_many: bool,
             few: bool = False, q: ParsedQuery | None = None) -> str:
    """The record candidates of one page, each with its score. A walk with few matches (at
    most 10,000, as the counts just read) sorts them (GIN bitmap, top-N; `::float8` keeps the
    planner off the walk index) rather than walking the static-rank index, which may pass
    hundreds of thousands of other records before it meets them; the order is the same.
    (A first page whose records the counts chose comes with the counts: facets.count.)"""
    if mode == WALK:
        after = "true"
        if cursor is not None:  # an index range first, then the exact keyset
            s, i = m.sql.param(cursor.score), m.sql.param(cursor.doc_id)
            after = (f"d.static_rank <= {s}::real AND (d.static_rank::float8 < {s} "
                     f"OR (d.static_rank::float8 = {s} AND d.doc_id > {i}))")
        # a walk starts at its rarest word's ceiling (ceiling.py); sorting, it is a filter
        rank = "d.static_rank::float8" if few else "d.static_rank"
        return (f"SELECT d.doc_id, d.static_rank::float8 AS score FROM documents d "
                f"WHERE {m.records} AND {after} AND {rank} <= {m.ceiling} "
                f"ORDER BY {rank} DESC, d.doc_id "
                f"LIMIT {limit}")
    if mode == PARTIAL:
        matches = f"SELECT d.doc_id, {m.record_bound} AS bound FROM documents d WHERE {m.records}"
        candidates = matches
        if partial_many:
            newest = (f"{matches} {{}} ORDER BY d.static_rank DESC, d.doc_id "
                      f"LIMIT {PARTIAL_CANDIDATES}")
            of_year = of_year_sql(q, m.sql) if q is not None else None
            candidates = newest.format("")
            if of_year is not None:
                # a year the query names is honoured here too: the newest candidates of that
                # year beside the newest of all
                candidates = (f"SELECT c.doc_id, max(c.bound) AS bound FROM (({candidates}) "
                              f"UNION ALL ({newest.format('AND ' + of_year)})) c "
                              f"GROUP BY c.doc_id")
        # Their title fits (word_similarity, 9-15 us each) only for the candidates (every
        # match, or the newest when many match) that can reach the first page. A fit is at
        # most 1: once the `limit`-th best whole score of the candidates best without it is
        # known, one more than 1 below that without its fit is beaten by `limit` others
        # whatever its fit. (A later page's keyset is on the whole score: every candidate is
        # scored there.)
        cut = "NULL::float8"
        if cursor is None:
            best = f"SELECT c.doc_id FROM c ORDER BY c.bound DESC LIMIT {limit} * {BEST_FIRST}"
            cut = (f"(SELECT t.score FROM (SELECT {m.record_score} AS score FROM ({best}) b "
                   f"JOIN documents d ON d.doc_id = b.doc_id) t "
                   f"ORDER BY t.score DESC OFFSET {limit} - 1 LIMIT 1) - {BOUND_MARGIN}")
        return (f"WITH c AS MATERIALIZED ({candidates}) "
                f"SELECT d.doc_id, {m.record_score} AS score FROM c "
                f"JOIN documents d ON d.doc_id = c.doc_id "
                f"WHERE c.bound >= coalesce({cut}, '-Infinity'::float8)")
    return f"SELECT d.doc_id, {m.record_score} AS score FROM documents d WHERE {m.records}"


# a page's item (d: its document, p: its score, q: the query's tsquery)
ITEM = """json_build_object(
    'kind', d.kind, 'id', d.ref, 'title', d.title, 'score', p.score,
    'dataset', d.dataset, 'region_code', d.region_code,
    'region_name', d.region_name, 'period', d.period, 'values', d."values",
    'doc_id', d.doc_id, 'verification_status', d.verification_status,
    'snippet', CASE WHEN q.tsq IS NULL OR numnode(q.tsq) = 0
                    THEN left(d.body, 200)
                    ELSE ts_headline('indonesian',
                        replace(replace(replace(d.body, '&', '&amp;'),
                                        '<', '&lt;'), '>', '&gt;'),
                        q.tsq, 'StartSel=<mark>, StopSel=</mark>, '
                        'MaxWords=30, MinWords=10, MaxFragments=2') END)"""


def _page_sql(m: Match, others: str, records: str, keyset: str, lim: str) -> str:
    """SQL (json): the page's items, best first: `others` (the matched regions and datasets,
    doc_id and score) and `records` (the record candidates), after `keyset`."""
    return f"""
        WITH q AS (SELECT {m.tsq} AS tsq),
             page AS (
                SELECT x.doc_id, x.score FROM (
                    {others}
                    UNION ALL
                    SELECT r.doc_id, r.score FROM ({records}) r) x
                WHERE {keyset}
                ORDER BY x.score DESC, x.doc_id LIMIT {lim})
        SELECT coalesce(json_agg({ITEM} ORDER BY p.score DESC, p.doc_id), '[]')
        FROM page p JOIN documents d ON d.doc_id = p.doc_id, q"""


async def fetch(conn: asyncpg.Connection, m: Match, mode: str, cursor: Cursor | None,
                limit: int, *, others: tuple[tuple[str, float], ...],
                partial_many: bool = False, few: bool = False,
                q: ParsedQuery | None = None) -> list[dict[str, Any]]:
    """Up to `limit` items after `cursor`, with snippets (limit + 1 tells a next page):
    `others`, the regions and datasets the counts matched, with their scores (Counts.others;
    `m` is built without them); `q` lets a partial answer honour a year it names."""
    lim = m.sql.param(limit)
    records = _records(m, mode, cursor, lim, partial_many, few, q)
    keyset = _keyset(m, cursor)
    others_json = m.sql.param([list(o) for o in others])
    items = await conn.fetchval(_page_sql(
        m, f"""SELECT (o->>0) COLLATE "C" AS doc_id, (o->>1)::float8 AS score
               FROM json_array_elements({others_json}::json) o""", records, keyset, lim),
        *m.sql.args)
    return _json(items) or []


@dataclass(frozen=True)
class FirstPage:
    """A first page for counts that do not read the matches (the kept counts') to return
    beside them, so it costs no statement of its own: `sql` (json, its arguments `args`
    numbered from $1) reads the matched regions and datasets from the counts' own `others`
    (doc_id, score). Built for `records` record matches (its mode and walk): counts of
    another number discard it; None: for any number (browse_first_page)."""

    records: int | None
    sql: str
    args: list[Any]


def first_page(m: Match, mode: str, limit: int, records: int, few: bool) -> FirstPage:
    """The first page of `m` (built without regions and datasets) as `fetch` finds it, for
    counts of `records` record matches (`mode` and `few` as `fetch` is given them)."""
    lim = m.sql.param(limit)
    sql = _page_sql(m, "SELECT o.doc_id, o.score FROM others o",
                    _records(m, mode, None, lim, False, few), "true", lim)
    return FirstPage(records, sql, list(m.sql.args))


def browse_first_page(m: Match, limit: int, records_sql: str, *, in_order: bool,
                      few_up_to: int) -> FirstPage:
    """The first page of `m`, an empty query, for counts that learn how many records match in
    the same statement (`records_sql`, SQL: that number; the record cells'). An empty query's
    records are in static rank whatever the mode, so only the plan depends on the number:
    sorted when few (up to `few_up_to`), walked when many (`fetch`'s `few`), or walked always
    where an index holds the filters' records in that order (`in_order`: one dataset in one
    kecamatan, migration 0019). The plan not taken is a one-time filter's: never run."""
    lim = m.sql.param(limit)
    walked = _records(m, WALK, None, lim, False, few=False)
    records = walked
    if not in_order:
        few = f"({records_sql}) <= {int(few_up_to)}"
        records = (f"SELECT * FROM ({_records(m, WALK, None, lim, False, few=True)}) s "
                   f"WHERE {few} UNION ALL SELECT * FROM ({walked}) w WHERE NOT {few}")
    sql = _page_sql(m, "SELECT o.doc_id, o.score FROM others o", records, "true", lim)
    return FirstPage(None, sql, list(m.sql.args))
