"""The total and facet counts of a match: the second named part of a search.

Counted from the matches themselves, read at most EXACT_UP_TO + 1 of them: up to 10,000 the
counts are exact; above, they are what the first 10,001 matches hold, lower bounds flagged
`exact: false` (as Elasticsearch's track_total_hits does), never a guess.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from services.search.sql.match import FACET_COLS, Match, _json, facet_grouping
from services.search.sql.page import _page_sql
from services.search.models import Counts

EXACT_UP_TO = 10_000
_COLS = "kind, dataset, topic, publisher, kecamatan_code, period"


def label_sql(facet: str, value: str) -> str:
    """SQL: the label of a dataset or publisher facet value (the dataset's title, the
    publisher's name), read inside the counting statement itself."""
    return f"""CASE {facet}
        WHEN 'dataset' THEN (SELECT s.title FROM datasets s WHERE s.slug = {value})
        WHEN 'publisher' THEN (SELECT p.name FROM publishers p WHERE p.id = {value}) END"""


# the matched regions and datasets, for the page (Counts.others). As JSON: a float8[] makes
# asyncpg introspect its type on each new connection, which turns JIT off for the session
# (what it restores is this transaction's setting).
OTHERS_READ = ("(SELECT json_agg(json_build_array(doc_id, score) ORDER BY doc_id) FROM others)"
               " AS others")


def others_of(row: Any) -> tuple[tuple[str, float], ...]:
    return tuple((doc_id, score) for doc_id, score in _json(row["others"]) or [])


def _facets_sql(values_max: int) -> str:
    name, value, sets = facet_grouping("c")
    return f"""(SELECT json_agg(t) FROM (
        SELECT facet, value, n AS count, coalesce(label, {label_sql('facet', 'value')}) AS label
        FROM (
            SELECT facet, value, n, label,
                   row_number() OVER (PARTITION BY facet ORDER BY n DESC, value) AS rank
            FROM (SELECT {name} AS facet, {value} AS value,
                         CASE WHEN GROUPING(c.kecamatan_code) = 0
                              THEN max(c.kecamatan_name) END AS label, sum(c.n)::int8 AS n
                  FROM combos c GROUP BY {sets}) g
            WHERE value IS NOT NULL) r
        WHERE rank <= {int(values_max)}) t)"""


TIE_MARGIN = 1e-6  # far above float rounding, far below any difference a preference makes


def _ranked_first_sql(m: Match, first: int) -> str:
    """SQL: the `first` hits best by their ranked score. Where the title fit takes the
    spelled-out shortcut (a title that spells out the query fits exactly 1) and at least
    `first` hits take it, their scores are known without the trigram search; the `first`-th
    best of them bounds the page, and a hit whose score without its fit (`record_bound`, at
    most 1 below its score) is below that one's cannot reach it, spelled out or not: only the
    rest are scored. The bound is found walking the hits best bound first, testing each for
    the shortcut until `first` take it (its regular expression costs ~2 us a title: every hit
    tested, it was 3.2 of 7.6 ms of "penduduk" in a kecamatan and a year, 1,536 hits).
    "penduduk sangatta utara 2024" at 1,000,000 records: 1,541 hits, 384 spelled out; the
    trigram search ran for the 1,157 others (13 ms of a 20.7 ms count), now for 96 of them."""
    if m.record_spelled is None:
        return (f"ARRAY(SELECT d.doc_id FROM hits d "
                f"ORDER BY {m.record_score} DESC, d.doc_id LIMIT {int(first)})")
    # (the order's expression is record_score's with the shortcut: the same arithmetic gives
    # the same scores, and the page orders the chosen ones by record_score; OFFSET 0 keeps the
    # shortcut's test above the sort, where the limit stops it. `s` is read twice but not
    # materialized: copying every hit's columns cost more than computing its bound twice,
    # 0.5 ms of "penduduk" in a kecamatan and a year, 1,536 hits)
    score = m.score_with_fit(f"CASE WHEN {m.record_spelled} THEN 1 ELSE {m.title_ws} END")
    return f"""ARRAY(
        WITH s AS NOT MATERIALIZED (SELECT d.*, {m.record_bound} AS bound FROM hits d),
             cut AS (SELECT d.bound FROM (SELECT * FROM s ORDER BY s.bound DESC OFFSET 0) d
                     WHERE {m.record_spelled} OFFSET {int(first) - 1} LIMIT 1)
        SELECT d.doc_id FROM s d
        WHERE d.bound >= coalesce((SELECT bound FROM cut) - {TIE_MARGIN}, '-Infinity'::float8)
        ORDER BY {score} DESC, d.doc_id LIMIT {int(first)})"""


def _first_ids_sql(m: Match, rank_up_to: int, first: int) -> str:
    """SQL: when the counts read every record match, the `first` records a first page can
    show: the best by their ranked score when at most `rank_up_to` match (every one is scored
    on a ranked page), else the first in static rank (a walk's order); NULL when more than
    EXACT_UP_TO match. (The score reads hits' own columns: `d` is hits here; `h.read` counts
    them.)"""
    return f"""CASE WHEN h.read <= {int(rank_up_to)}
                    THEN {_ranked_first_sql(m, first)}
                    WHEN h.read <= {EXACT_UP_TO}
                    THEN ARRAY(SELECT doc_id FROM hits ORDER BY static_rank DESC, doc_id
                               LIMIT {int(first)}) END"""


def _first_page_sql(m: Match, rank_up_to: int, first: int) -> str:
    """SQL (json): the first page itself, where the counts named its records (`fi.first_ids`):
    those records and the matched regions and datasets, best first, as `page.fetch` gives
    them (the same items and scores: a ranked record's score is `record_score`, a walked
    one's its static rank), so a first page costs no statement of its own. Its records are
    read by key (`d` is documents: the columns hits holds of them, the same scores); testing
    each hit against the chosen ids read them all (0.9 ms of 2,512 hits, up to 10,000)."""
    score = (f"CASE WHEN h.read <= {int(rank_up_to)} THEN {m.record_score} "
             f"ELSE d.static_rank::float8 END")
    records = (f"SELECT d.doc_id, {score} AS score FROM documents d "
               f"WHERE d.doc_id = ANY(fi.first_ids)")
    items = _page_sql(m, "SELECT o.doc_id, o.score FROM others o", records, "true",
                      str(int(first)))
    return f"CASE WHEN fi.first_ids IS NOT NULL THEN ({items}) END"


async def count(conn: asyncpg.Connection, m: Match, *, values_max: int,
                with_facets: bool = True, first_page: tuple[int, int] | None = None) -> Counts:
    """Matches are grouped per distinct facet combination as they are read (a few thousand
    combinations at most); the six facets and the total add those up. With `first_page`
    (the rank limit, and a page's length + 1) and a ranked match, the counts also choose the
    records a first page can show (`Counts.first_ids`) and return that page
    (`Counts.first_page`): the page need not find the matches again (a bitmap of a common
    word's documents, intersected with a filter's, costs as much as the counts did), nor
    cost a statement."""
    facets = _facets_sql(values_max) if with_facets else "NULL::json"
    first_ids = _first_ids_sql(m, *first_page) if first_page else "NULL::text[]"
    page_items = _first_page_sql(m, *first_page) if first_page else "NULL::json"
    # (what the choice reads, only when it is made: a read of 10,001 rows carries no more)
    scored = ", d.doc_id, d.static_rank, d.title, d.region_code" if first_page else ""
    text = f"""
        WITH hits AS MATERIALIZED (
                SELECT {FACET_COLS}, d.kecamatan_name{scored}
                FROM documents d WHERE {m.records}
                LIMIT {EXACT_UP_TO + 1}),
             others AS MATERIALIZED ({m.others}),
             combos AS MATERIALIZED (
                SELECT {_COLS}, max(kecamatan_name) AS kecamatan_name, count(*) AS n
                FROM (SELECT {_COLS}, kecamatan_name FROM hits
                      UNION ALL
                      SELECT {_COLS}, kecamatan_name FROM others) m
                GROUP BY {_COLS})
        SELECT h.read AS record_hits, (SELECT count(*) FROM others WHERE hit) AS other_hits,
               {OTHERS_READ},
               (SELECT coalesce(sum(n), 0)::int8 FROM combos) AS total,
               {facets} AS facets, fi.first_ids, {page_items} AS first_page
        FROM (SELECT count(*) AS read FROM hits) h
        -- (OFFSET 0: chosen once; pulled up, it was computed for each use)
        CROSS JOIN LATERAL (SELECT {first_ids} AS first_ids OFFSET 0) fi"""
    used = max(map(int, re.findall(r"\$(\d+)", text)), default=0)
    row = await conn.fetchrow(text, *m.sql.args[:used])
    grouped: dict[str, list[dict[str, Any]]] = {}
    for fv in _json(row["facets"]) or []:
        grouped.setdefault(fv["facet"], []).append(
            {"value": fv["value"], "count": fv["count"], "label": fv["label"]})
    return Counts(total=row["total"], facets=grouped,
                  exact=row["record_hits"] <= EXACT_UP_TO,
                  every_word=row["record_hits"] + row["other_hits"],
                  records=row["record_hits"],
                  first_ids=None if row["first_ids"] is None else tuple(row["first_ids"]),
                  first_page=None if row["first_page"] is None else _json(row["first_page"]),
                  others=others_of(row))
