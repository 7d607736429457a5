"""Exact counts for a one-word query from the counts the indexer keeps (migration 0004); a
word typed as a prefix too when what it begins is one counted term (or one concept).

`search.facet_counts` holds, per term (a lexeme, or a concept: the lexemes a synonym set
stands for together), how many record documents have each facet value. A one-word query
without filters matches the records holding any of its word's lexemes; when those that occur
at all are one lexeme, or exactly the occurring lexemes of one concept, its record counts are
one index lookup. Regions and datasets (a few hundred documents) are still matched and counted
live. A partial answer (records match any word) without filters, one of whose words is held
by more than EXACT_UP_TO records, takes that word's kept counts as lower bounds. Anything else
(several words, filters, numbers) is None: the bounded count of facets.py answers.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import asyncpg

from services.search.sql.match import Match, _json
from shared.sql import Where
from services.search.models import Counts, Filters, ParsedQuery
from services.search.sql import facets

NO_RECORDS = ""  # no lexeme of the word occurs in any record: zero record matches, exactly


PREFIX_TERMS_MAX = 50  # a prefix that begins more counted terms is counted live


async def term_of(conn: asyncpg.Connection, words: tuple[str, ...],
                  prefix: str | None = None) -> str | None:
    """The counted term whose documents are exactly those holding any lexeme of `words` (and,
    with `prefix`, any lexeme it begins: the counted terms in that range of the counts' key)."""
    rows = await conn.fetch("""
        WITH typed AS (SELECT x AS lex
                       FROM unnest(tsvector_to_array(to_tsvector('indonesian', $1))) x),
             begun AS (SELECT DISTINCT f.term AS lex FROM facet_counts f
                       WHERE $2::text IS NOT NULL AND f.term >= $2 AND f.term < $3
                         AND f.facet = 'kind' AND f.n > 0
                       LIMIT $4)
        SELECT l.lex, counted_term(l.lex) AS counted, c.concept,
               EXISTS (SELECT 1 FROM facet_counts f
                       WHERE f.term = l.lex AND f.facet = 'kind' AND f.n > 0) AS present,
               (SELECT count(*) FROM begun) AS begun
        FROM (SELECT lex FROM typed UNION SELECT lex FROM begun) l
        LEFT JOIN count_concepts c ON c.lexeme = l.lex""", " ".join(words), prefix,
        prefix and prefix[:-1] + chr(ord(prefix[-1]) + 1), PREFIX_TERMS_MAX + 1)
    if rows and rows[0]["begun"] > PREFIX_TERMS_MAX:
        return None
    if not rows or not all(r["counted"] for r in rows):
        return None
    present = [r for r in rows if r["present"]]
    if not present:
        return NO_RECORDS
    if len(present) == 1:
        return present[0]["lex"]
    concepts = {r["concept"] for r in present}
    if len(concepts) != 1 or None in concepts:
        return None
    concept = concepts.pop()
    # the concept counts documents holding any of its lexemes: exact only when every one of
    # them that occurs is among the query's
    others_occur = await conn.fetchval("""
        SELECT EXISTS (SELECT 1 FROM count_concepts c
                       JOIN facet_counts f ON f.term = c.lexeme AND f.facet = 'kind'
                       WHERE c.concept = $1 AND f.n > 0 AND c.lexeme <> ALL($2::text[]))""",
        concept, [r["lex"] for r in rows])
    return None if others_occur else concept


COMMON_SHARE = 0.3  # a word in more of the documents is checked on rows, not in the index


async def common_words(conn: asyncpg.Connection, q: ParsedQuery) -> frozenset[int]:
    """Indexes of the words of a query of several that each occur in more than COMMON_SHARE
    of the documents (at least: the kept count of its most frequent lexeme), keeping the
    rarest in the index. A word typed as a prefix, or with a lexeme not counted, is never
    common."""
    if len(q.groups) < 2:
        return frozenset()
    rows = await conn.fetch("""
        SELECT g.i, (SELECT CASE WHEN bool_and(counted_term(l)) THEN max(coalesce(f.n, 0)) END
                     FROM unnest(tsvector_to_array(to_tsvector('indonesian', g.words))) l
                     LEFT JOIN facet_counts f
                       ON f.term = l AND f.facet = 'kind' AND f.value = 'record')
                    > $2 * (SELECT reltuples FROM pg_class
                            WHERE oid = 'documents'::regclass) AS common
        FROM unnest($1::text[]) WITH ORDINALITY g(words, i)""",
        [" ".join(g) for g in q.groups], COMMON_SHARE)
    last = len(q.groups) - 1
    common = {r["i"] - 1 for r in rows
              if r["common"] and not (q.prefix and r["i"] - 1 == last)}
    if len(common) == len(q.groups):
        return frozenset()  # (which is rarest is not known: the index intersects them)
    return frozenset(common)


def _facets_sql(others: str, term: str, values_max: str) -> str:
    return f"""
        WITH others AS MATERIALIZED ({others}),
             c AS (SELECT facet, value, n FROM facet_counts WHERE term = {term} AND n > 0
                   UNION ALL
                   SELECT x.facet, x.value, count(*) FROM others o
                   CROSS JOIN LATERAL (VALUES ('kind', o.kind), ('dataset', o.dataset),
                       ('topic', o.topic), ('publisher', o.publisher),
                       ('kecamatan', o.kecamatan_code), ('period', o.period)) x(facet, value)
                   WHERE x.value IS NOT NULL GROUP BY 1, 2),
             s AS (SELECT facet, value, sum(n)::int8 AS n FROM c GROUP BY 1, 2),
             r AS (SELECT facet, value, n, row_number() OVER (
                          PARTITION BY facet ORDER BY n DESC, value) AS rank FROM s)
        SELECT (SELECT coalesce(sum(n), 0) FROM s WHERE facet = 'kind')::int8 AS total,
               (SELECT coalesce(sum(n), 0) FROM facet_counts
                WHERE term = {term} AND facet = 'kind')::int8 AS record_hits,
               (SELECT count(*) FROM others WHERE hit) AS other_hits, {facets.OTHERS_READ},
               (SELECT json_agg(json_build_object(
                    'facet', facet, 'value', value, 'count', n,
                    'label', CASE WHEN facet = 'kecamatan' THEN (
                        SELECT g.kecamatan_name FROM regions g WHERE g.code = r.value)
                        ELSE {facets.label_sql('facet', 'value')} END))
                FROM r WHERE rank <= {values_max}) AS facets"""


def _word_term_of(q: ParsedQuery, i: int) -> tuple[tuple[str, ...], str | None] | None:
    """The word at `i` as the kept counts see it (its alternatives, and the prefix the last
    word is typed as), or None where they cannot answer for it."""
    group, prefix = q.groups[i], q.prefix if i == len(q.groups) - 1 else None
    if any(" " in alt for alt in group):
        return None  # a spelled-out phrase ("sekolah <-> dasar") is not a set of lexemes
    if prefix is not None and (prefix.isdigit() or prefix.startswith("~")):
        return None  # numbers are not all counted
    return group, prefix


async def exact_counts(conn: asyncpg.Connection, q: ParsedQuery, f: Filters, m: Match, *,
                       values_max: int) -> Counts | None:
    """The counts of a one-word query without filters, exact whatever its number of matches;
    None when the kept counts cannot answer it."""
    if len(q.groups) != 1 or f != Filters() or m.empty:
        return None
    word = _word_term_of(q, 0)
    term = word and await term_of(conn, *word)
    if term is None:
        return None
    return await _counts_of(conn, m, term, values_max)


async def widest_word_counts(conn: asyncpg.Connection, q: ParsedQuery, f: Filters, m: Match, *,
                             values_max: int) -> Counts | None:
    """A partial answer's counts (`m` matches any word) when one of its words alone is held by
    more than EXACT_UP_TO records: the documents holding any word are more than that too, and
    the kept counts of the word most records hold, with the regions and datasets matching any
    word counted live, are lower bounds of every count (`exact` False), larger ones, for an
    index lookup, than reading the first EXACT_UP_TO + 1 matches gives. None without such a
    word, or with filters (the kept counts are of the whole index): that read answers."""
    if f != Filters() or m.empty:
        return None
    terms = []
    for i in range(len(q.groups)):
        word = _word_term_of(q, i)
        if word is not None and (term := await term_of(conn, *word)):
            terms.append(term)
    widest = terms and await conn.fetchrow("""
        SELECT term, sum(n) AS n FROM facet_counts WHERE term = ANY($1::text[]) AND facet = 'kind'
        GROUP BY term ORDER BY 2 DESC, 1 LIMIT 1""", terms)
    if not widest or widest["n"] <= facets.EXACT_UP_TO:
        return None
    return replace(await _counts_of(conn, m, widest["term"], values_max), exact=False)


async def _counts_of(conn: asyncpg.Connection, m: Match, term: str, values_max: int) -> Counts:
    """The kept counts of `term` for records, and `m`'s regions and datasets counted live."""
    used = max(map(int, re.findall(r"\$(\d+)", m.others)), default=0)
    sql = Where()  # the match's arguments; the records' scoring arguments come after
    sql.args.extend(m.sql.args[:used])
    row = await conn.fetchrow(
        _facets_sql(m.others, sql.param(term), sql.param(values_max)), *sql.args)
    grouped: dict[str, list[dict[str, Any]]] = {}
    for fv in sorted(_json(row["facets"]) or [], key=lambda x: (-x["count"], x["value"])):
        grouped.setdefault(fv["facet"], []).append(
            {"value": fv["value"], "count": fv["count"], "label": fv["label"]})
    return Counts(total=row["total"], facets=grouped, exact=True,
                  every_word=row["record_hits"] + row["other_hits"],
                  records=row["record_hits"], others=facets.others_of(row))


async def kept(conn: asyncpg.Connection) -> list[tuple[str, str, str, int]]:
    """Every kept count (to compare the live index with a rebuild)."""
    rows = await conn.fetch("SELECT term, facet, value, n FROM facet_counts WHERE n <> 0 "
                            "ORDER BY term, facet, value")
    return [tuple(r) for r in rows]


async def recounted(conn: asyncpg.Connection) -> list[tuple[str, str, str, int]]:
    """The counts as the documents hold them now, counted afresh (what `kept` must equal)."""
    rows = await conn.fetch("""
        SELECT t.term, x.facet, x.value, count(*) AS n
        FROM documents d CROSS JOIN LATERAL doc_terms(d.tsv) t(term)
        CROSS JOIN LATERAL (VALUES ('kind', d.kind), ('dataset', d.dataset), ('topic', d.topic),
                                   ('publisher', d.publisher), ('kecamatan', d.kecamatan_code),
                                   ('period', d.period)) x(facet, value)
        WHERE d.kind = 'record' AND x.value IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""")
    return [tuple(r) for r in rows]
