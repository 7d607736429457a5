"""Exact counts for a one-word query from the counts the indexer keeps (migration 0004); a
word typed as a prefix too when what it begins is one counted term (or one concept); and for
several words when every record holding the rarest one holds the others (a place's name of two
words, "muara wahau"); and for no word at all (browsing everything: the term `*`).

`search.facet_counts` holds, per term (a lexeme, or a concept: the lexemes a synonym set
stands for together), how many record documents have each facet value. A one-word query
without filters matches the records holding any of its word's lexemes; when those that occur
at all are one lexeme, or exactly the occurring lexemes of one concept, its record counts are
one index lookup. Regions and datasets (a few hundred documents) are still matched and counted
live. A partial answer (records match any word) without filters, one of whose words is held
by more than EXACT_UP_TO records, takes that word's kept counts as lower bounds. Anything else
(other words together, filters, numbers) is None: the bounded count of facets.py answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Callable

import asyncpg

from services.search.sql.match import Match, _json
from shared.sql import Where
from services.search.models import Counts, Filters, ParsedQuery
from services.search.sql import facets, page

NO_RECORDS = ""  # no lexeme of the word occurs in any record: zero record matches, exactly
EVERY_RECORD = "*"  # the term every record holds (migration 0012): an empty query's records


PREFIX_TERMS_MAX = 50  # a prefix that begins more counted terms is counted live


COMMON_SHARE = 0.3  # a word in more of the documents is checked on rows, not in the index


NARROW_FROM = 10_000  # a word's records from which a village filter narrows its index lookup
NARROW_RATIO = 4      # ... where the word's records are at least this many times the village's


@dataclass(frozen=True)
class Words:
    """What the kept counts say of a query's words (`words_of`: one lookup, made by the
    opening statement where it can foresee the words)."""

    terms: tuple[str | None, ...]  # per word its counted term (_term), None where none is
    common: frozenset[int]         # words checked on rows, not in the index (match.py)
    # per word, a lexeme the records of that word are exactly those holding (match.py
    # matches records by it alone): the word's one occurring lexeme, or one its concept's
    # every record holds (as many records as the concept: "sekolah" for the school words,
    # "duduk" for penduduk ~ warga ~ jiwa); None where none is
    exact: tuple[str | None, ...] = ()
    records: tuple[int, ...] = ()  # per word, how many records its term's kept counts hold
    # a village filter's own lexeme, ANDed with the words the index looks up (match.py;
    # `narrowing` says where); None where it would not pay
    narrow: str | None = None


def lexeme_words(q: ParsedQuery, f: Filters) -> list[tuple[str, str | None]] | None:
    """Per word what `words_of` looks up (its alternatives as text, the prefix it is typed
    as); None where it asks nothing (no words; one word with filters but no region, of one
    alternative, not a prefix)."""
    if q.empty or (f != Filters() and len(q.groups) < 2 and len(q.groups[0]) < 2
                   and q.prefix is None and f.region is None):
        return None
    looked = [_word_term_of(q, i) for i in range(len(q.groups))]
    return [(" ".join(w[0]), w[1]) if w else (" ".join(g), None)
            for w, g in zip(looked, q.groups)]


async def words_of(conn: asyncpg.Connection, q: ParsedQuery, f: Filters,
                   rows: list[list[Any]] | None = None, region: dict | None = None) -> Words:
    """Per word its counted term, and the words of a query of several that each occur in more
    than COMMON_SHARE of the documents (at least: the kept count of its most frequent
    lexeme), keeping the rarest in the index. A word typed as a prefix, or with a lexeme not
    counted, is never common. (The kept counts are of the whole index, so what they say of a
    word's records holds under any filter. One word with filters asks them only where it
    stands for several alternatives, for its one lexeme: "sekolah" in a village, one posting
    list instead of ten merged, 8.5 -> 4.3 ms at 1,000,000 records where the statement costs
    0.6; a word of one lexeme would gain nothing; with a region filter, how many records
    hold the word says whether the village's lexeme narrows it: `narrowing`.) `rows`: the
    lookup of `lexeme_words` already made (the opening statement makes it where it could
    foresee the words: no statement here). `region`: what the opening statement read of the
    region filter (`search.region_lexeme`: its level and, for a village, its lexeme)."""
    looked = lexeme_words(q, f)
    if looked is None:
        return Words(tuple(None for _ in q.groups), frozenset())
    if rows is None:
        rows = await _lexemes(conn, looked)
    terms = tuple(_term(r) if _word_term_of(q, i) else None for i, r in enumerate(rows))
    exact = tuple(_exact(t, r) for t, r in zip(terms, rows))
    records = tuple(_records_of(t, r) for t, r in zip(terms, rows))
    common: set[int] = set()
    last = len(q.groups) - 1
    for i, word in enumerate(rows):
        typed = [r for r in word if r["typed"]]
        if (len(q.groups) > 1 and typed and all(r["counted"] for r in typed)
                and max(r["n"] or 0 for r in typed) > COMMON_SHARE * typed[0]["reltuples"]
                and not (q.prefix and i == last)):
            common.add(i)
    if len(common) == len(q.groups):
        common = set()  # (which is rarest is not known: the index intersects them)
    documents = next((r["reltuples"] for word in rows for r in word), 0)
    return Words(terms, frozenset(common), exact, records,
                 narrowing(region, [n for i, n in enumerate(records) if i not in common],
                           documents))


def narrowing(region: dict | None, looked_up: list[int], documents: float) -> str | None:
    """The village filter's own lexeme (`search.region_lexeme`: every record document of the
    village holds it, so ANDed with the words it changes no answer) where the index gains by
    it: the rarest word it looks up (`looked_up`: their kept records, 0 where not known) is
    held by at least NARROW_FROM records, NARROW_RATIO times the village's, and by at most
    COMMON_SHARE of the documents. Then the index intersects the word's posting list with the
    village's, skipping the rest ("sekolah", 66,000 records, in a village of 7,000: 8.4 ->
    4.6 ms at 1,000,000 records); a word most documents hold is better tested on the rows the
    region and period btree finds ("penduduk" in a village and a year: 3.4 -> 5.7 ms narrowed)
    and a rare one is already cheap."""
    if region is None or not region.get("lexeme") or not looked_up:
        return None
    rarest = min(looked_up)
    own = region.get("records") or 0  # (a code is not counted: it names one place)
    if rarest < max(NARROW_FROM, NARROW_RATIO * own) or rarest > COMMON_SHARE * documents:
        return None
    return region["lexeme"]


def _records_of(term: str | None, rows: list) -> int:
    """The records the kept counts hold for `term` (the count of its lexeme, or its concept's)."""
    return next((r["concept_n"] if term.startswith("~") else r["n"] for r in rows
                 if r["n"] and (r["lex"] == term or r["concept"] == term)), 0) if term else 0


def _exact(term: str | None, rows: list) -> str | None:
    if not term:
        return None
    if not term.startswith("~"):
        return term
    # a lexeme held by as many records as the concept (which counts those holding any of its
    # lexemes) is held by every one of them
    return next((r["lex"] for r in sorted(rows, key=lambda r: r["lex"])
                 if r["n"] and r["n"] == r["concept_n"]), None)


def lexemes_args(words: list[tuple[str, str | None, str | None]]) -> list[Any]:
    """`search.word_lexemes`' arguments for words (alternatives, prefix, unless_known: a word
    skipped when this one is in the vocabulary), and the most terms a prefix is looked up
    for."""
    return [[w for w, _p, _u in words], [p for _w, p, _u in words],
            [p and p[:-1] + chr(ord(p[-1]) + 1) for _w, p, _u in words],
            [u for _w, _p, u in words], PREFIX_TERMS_MAX + 1]


def lexemes_by_word(rows: list[Any], n: int) -> list[list[Any]]:
    """`search.word_lexemes`' rows per word, for `n` words."""
    by_word: list[list[Any]] = [[] for _ in range(n)]
    for r in rows:
        by_word[r["i"] - 1].append(r)
    return by_word


async def _lexemes(conn: asyncpg.Connection,
                   words: list[tuple[str, str | None]]) -> list[list[Any]]:
    """Per word (its alternatives, and the prefix it is typed as): its lexemes, typed and
    begun by its prefix, what the kept counts hold of each (`search.word_lexemes`, search
    migration 0013: its own statement where the opening one could not foresee the words)."""
    rows = await conn.fetchval("SELECT word_lexemes($1, $2, $3, $4, $5)",
                               *lexemes_args([(w, p, None) for w, p in words]))
    return lexemes_by_word(_json(rows) or [], len(words))


def _term(rows: list) -> str | None:
    """The counted term whose documents are exactly those holding any lexeme of a word (its
    rows of `_lexemes`: typed, and begun by its prefix), NO_RECORDS when none occurs, None
    when the kept counts cannot say."""
    if rows and rows[0]["begun"] > PREFIX_TERMS_MAX:
        return None
    if not rows or not all(r["counted"] for r in rows):
        return None
    present = [r for r in rows if r["n"]]
    if not present:
        return NO_RECORDS
    if len(present) == 1:
        return present[0]["lex"]
    concepts = {r["concept"] for r in present}
    if len(concepts) != 1 or None in concepts:
        return None
    # the concept counts documents holding any of its lexemes: exact only when every one of
    # them that occurs is among the query's
    return None if present[0]["others_occur"] else concepts.pop()


def facet_values(alias: str) -> str:
    """SQL: the six facets of a row `alias` (kind, dataset, topic, publisher, kecamatan,
    period) as (facet, value) rows, for a CROSS JOIN LATERAL."""
    return (f"(VALUES ('kind', {alias}.kind), ('dataset', {alias}.dataset), "
            f"('topic', {alias}.topic), ('publisher', {alias}.publisher), "
            f"('kecamatan', {alias}.kecamatan_code), ('period', {alias}.period))")


def _facets_sql(others: str, kept: str, records: str, values_max: str, first_page: str,
                cells: str = "") -> str:
    """The counts' statement: `kept` (SQL: facet, value, n of the records, kept by the
    indexer), `records` (SQL: how many records), the regions and datasets `others` counted
    live; `cells`, the filtered record_cells both read, where they are what is kept."""
    cells = f"cells AS MATERIALIZED ({cells})," if cells else ""
    return f"""
        WITH others AS MATERIALIZED ({others}), {cells}
             c AS ({kept}
                   UNION ALL
                   SELECT x.facet, x.value, count(*) FROM others o
                   CROSS JOIN LATERAL {facet_values("o")} x(facet, value)
                   WHERE x.value IS NOT NULL GROUP BY 1, 2),
             s AS (SELECT facet, value, sum(n)::int8 AS n FROM c GROUP BY 1, 2),
             r AS (SELECT facet, value, n, row_number() OVER (
                          PARTITION BY facet ORDER BY n DESC, value) AS rank FROM s)
        SELECT (SELECT coalesce(sum(n), 0) FROM s WHERE facet = 'kind')::int8 AS total,
               ({records})::int8 AS record_hits,
               (SELECT count(*) FROM others WHERE hit) AS other_hits, {facets.OTHERS_READ},
               (SELECT json_agg(json_build_object(
                    'facet', facet, 'value', value, 'count', n,
                    'label', CASE WHEN facet = 'kecamatan' THEN (
                        SELECT g.kecamatan_name FROM regions g WHERE g.code = r.value)
                        ELSE {facets.label_sql('facet', 'value')} END))
                FROM r WHERE rank <= {values_max}) AS facets, ({first_page}) AS first_page"""


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
                       values_max: int, terms: tuple[str | None, ...],
                       first_page: Callable[[], page.FirstPage] | None = None
                       ) -> Counts | None:
    """The counts of a query without filters, exact whatever its number of matches: of one
    word, its counted term's; of several, the rarest word's when every document holding it
    holds the others too (`contained_term`); of none (browsing everything), the term every
    record holds; None when the kept counts cannot answer it. `terms`: each word's counted
    term (Words.terms). `first_page`: the page to return with them (Counts.first_page), built
    where they answer (not for an empty query: its page walks the records in static-rank
    order, the first 21 of the walk index). An empty query with filters: cells.py."""
    if m.empty:
        return await _counts_of(conn, m, EVERY_RECORD, values_max) if f == Filters() else None
    if f != Filters() or not terms or None in terms:
        return None
    term = terms[0]
    if len(terms) > 1:
        term = (NO_RECORDS if NO_RECORDS in terms
                else await contained_term(conn, list(terms)))
        if term is None:
            return None
    return await _counts_of(conn, m, term, values_max, first_page() if first_page else None)


CONTAINED_CHECK_MAX = 100_000  # records of the rarest term up to which containment is checked


async def contained_term(conn: asyncpg.Connection, terms: list[str]) -> str | None:
    """The rarest of the counted `terms` (one per word: a lexeme or a concept) when every
    record holding it holds every other one too: then the records matching all the words
    are exactly its records, and its kept counts are theirs. A multi-word name is mostly so
    ("muara wahau": every record holding "wahau" holds "muara"; "padi sawah": "sawah" is a
    kind of padi), and then its 10,001 matches need not be read for an approximate count.
    Decided by the kept counts where they can: a facet value more records with the rarest
    term have than with another term rules it out ("jembatan bengalon" at once); a facet
    that covers the rarest term shows it (every record holding it has a value of that facet,
    and every record with each of those values, counted under the term `*` every record
    holds, migration 0012, holds every other term: "wahau", "ancalong" and "utara" lie in
    one kecamatan whose every record holds "muara" or "sangatta"; 0.6 ms where the index
    took 2-4). Else by the tsvector index, for a document holding the rarest term but not all
    the others (one bitmap of the difference, empty when it holds: 3-6 ms at 1,000,000
    records, against reading 10,001 matches, 20-30 ms). That bitmap merges the terms'
    posting lists: past CONTAINED_CHECK_MAX records of the rarest it is not tried (terms of
    712,000 and 1,000,000 records, "jumlah penduduk", took 115 ms, where reading 10,001
    matches takes 53; the kept counts now show that pair). None when it does not hold.
    (`search.contained_term`, migration 0013: planned once per session; planned per call it
    cost 0.3-0.55 ms to plan, where ruling a pair out costs 0.1 to run.)"""
    return await conn.fetchval("SELECT contained_term($1, $2)", terms, CONTAINED_CHECK_MAX)


async def widest_word_counts(conn: asyncpg.Connection, f: Filters, m: Match, *,
                             values_max: int, words: Words) -> Counts | None:
    """A partial answer's counts (`m` matches any word) when one of its words alone is held by
    more than EXACT_UP_TO records: the documents holding any word are more than that too, and
    the kept counts of the word most records hold, with the regions and datasets matching any
    word counted live, are lower bounds of every count (`exact` False), larger ones, for an
    index lookup, than reading the first EXACT_UP_TO + 1 matches gives. None without such a
    word, or with filters (the kept counts are of the whole index): that read answers.
    `words`: what the kept counts hold for each word (Words: its term and its records)."""
    if f != Filters() or m.empty:
        return None
    # (the most records; on a tie the first term in the counts' order, "C")
    widest = min(((n, t) for t, n in zip(words.terms, words.records) if t), default=None,
                 key=lambda x: (-x[0], x[1]))
    if widest is None or widest[0] <= facets.EXACT_UP_TO:
        return None
    return replace(await _counts_of(conn, m, widest[1], values_max), exact=False)


def _renumbered(sql: str, number: Callable[[int], int]) -> str:
    """`sql` with each argument $n numbered number(n)."""
    return re.sub(r"\$(\d+)", lambda x: f"${number(int(x.group(1)))}", sql)


async def _counts_of(conn: asyncpg.Connection, m: Match, term: str, values_max: int,
                     first: page.FirstPage | None = None) -> Counts:
    """The kept counts of `term` for records, and `m`'s regions and datasets counted live;
    with `first`, the first page too (its regions and datasets are these)."""
    def kept(sql: Where) -> tuple[str, str, str]:
        t = sql.param(term)
        return (f"SELECT facet, value, n FROM facet_counts WHERE term = {t} AND n > 0",
                f"SELECT coalesce(sum(n), 0) FROM facet_counts "
                f"WHERE term = {t} AND facet = 'kind'", "")
    return await kept_counts(conn, m, values_max, kept, first)


async def kept_counts(conn: asyncpg.Connection, m: Match, values_max: int,
                      kept: Callable[[Where], tuple[str, str, str]],
                      first: page.FirstPage | None = None) -> Counts:
    """Counts from what the indexer keeps (`kept` names it: its rows, its records and the
    cells it reads, with its own arguments) and `m`'s regions and datasets counted live;
    with `first`, the first page too."""
    # the match's arguments the regions' and datasets' SQL names, renumbered from $1 (the
    # records' arguments, which it does not name, may come between them: a statement must
    # type every argument it is given)
    used = sorted({int(n) for n in re.findall(r"\$(\d+)", m.others)})
    number = {n: i + 1 for i, n in enumerate(used)}
    others = _renumbered(m.others, number.__getitem__)
    sql = Where()
    sql.args.extend(m.sql.args[n - 1] for n in used)
    rows, records, cells = kept(sql)
    values_max_sql = sql.param(values_max)
    page_sql = "NULL::json"
    if first is not None:  # (its arguments follow these)
        after = len(sql.args)
        page_sql = _renumbered(first.sql, lambda n: n + after)
    text = _facets_sql(others, rows, records, values_max_sql, page_sql, cells)
    row = await conn.fetchrow(text, *sql.args, *(first.args if first else ()))
    grouped: dict[str, list[dict[str, Any]]] = {}
    for fv in sorted(_json(row["facets"]) or [], key=lambda x: (-x["count"], x["value"])):
        grouped.setdefault(fv["facet"], []).append(
            {"value": fv["value"], "count": fv["count"], "label": fv["label"]})
    return Counts(total=row["total"], facets=grouped, exact=True,
                  every_word=row["record_hits"] + row["other_hits"],
                  records=row["record_hits"], others=facets.others_of(row),
                  first_page=(_json(row["first_page"]) if first is not None
                              and first.records in (None, row["record_hits"]) else None))


CELLS = """SELECT '#cell', concat(dataset, '|', topic, '|', publisher, '|', kecamatan_code),
                  coalesce(period, ''), {n}
           FROM {source} WHERE {where} GROUP BY dataset, topic, publisher, kecamatan_code, period"""


async def kept(conn: asyncpg.Connection) -> list[tuple[str, str, str, int]]:
    """Every kept count (to compare the live index with a rebuild): the words' and the record
    cells' (migration 0018; term '#cell', their key as facet and value)."""
    cells = await _cells_kept(conn)
    rows = await conn.fetch("SELECT term, facet, value, n FROM facet_counts WHERE n <> 0" + (
        " UNION ALL " + CELLS.format(n="sum(n)::int8", source="record_cells", where="n <> 0")
        if cells else ""))
    return sorted(tuple(r) for r in rows)


async def _cells_kept(conn: asyncpg.Connection) -> bool:
    """Whether the record cells are kept (an index before migration 0018 has none)."""
    return await conn.fetchval("SELECT to_regclass('record_cells') IS NOT NULL")


async def recounted(conn: asyncpg.Connection) -> list[tuple[str, str, str, int]]:
    """The counts as the documents hold them now, counted afresh (what `kept` must equal)."""
    rows = await conn.fetch(f"""
        SELECT t.term, x.facet, x.value, count(*) AS n
        FROM documents d CROSS JOIN LATERAL doc_terms(d.tsv) t(term)
        CROSS JOIN LATERAL {facet_values("d")} x(facet, value)
        WHERE d.kind = 'record' AND x.value IS NOT NULL
        GROUP BY 1, 2, 3""" + (
        " UNION ALL " + CELLS.format(n="count(*)", source="documents", where="kind = 'record'")
        if await _cells_kept(conn) else ""))
    return sorted(tuple(r) for r in rows)
