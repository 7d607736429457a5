"""Which documents a query matches, as SQL: the first named part of a search.

A `Match` holds the WHERE conditions and scores every other part (counts, page) builds on.
Records match by the tsvector alone (a GIN bitmap, or a walk in static-rank order); the few
region and dataset documents also by trigram name, through their own partial index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from services.search.sql.ceiling import period_ceiling_sql, rank_ceiling_sql
from services.search.models import PARTIAL, WALK, Filters, ParsedQuery
from shared.sql import Where

FACET_COLS = "d.kind, d.dataset, d.topic, d.publisher, d.kecamatan_code, d.period"


def facet_grouping(alias: str) -> tuple[str, str, str]:
    """SQL over rows `alias` holding the six facet columns, grouped by one grouping set per
    facet: (the facet's name, its value, the GROUP BY clause). In a grouping set the other
    facet columns are NULL, so the coalesce is the grouped column's own value (NULL where it
    is NULL: the caller drops those)."""
    cols = [("kind", "kind"), ("dataset", "dataset"), ("topic", "topic"),
            ("publisher", "publisher"), ("kecamatan", "kecamatan_code"), ("period", "period")]
    name = ("CASE " + " ".join(f"WHEN GROUPING({alias}.{c}) = 0 THEN '{n}'" for n, c in cols[:-1])
            + f" ELSE '{cols[-1][0]}' END")
    value = f"coalesce({', '.join(f'{alias}.{c}' for _n, c in cols)})"
    return name, value, f"GROUPING SETS ({', '.join(f'({alias}.{c})' for _n, c in cols)})"
# the regions and datasets matched where none can be (a kind=record filter); it names the
# query's tsquery, which types its arguments where nothing else in a statement names it
NO_OTHERS = (f"SELECT d.doc_id, {FACET_COLS}, d.kecamatan_name, 0::float8 AS score, "
             f"false AS hit FROM documents d WHERE false AND d.tsv @@ {{tsq}}")


@dataclass
class Match:
    sql: Where
    common: str          # filters and the walk's snapshot, for every kind of document
    records: str         # the condition a record document matches by
    others: str          # SELECT doc_id, facets, kecamatan_name, score, hit of regions and
                         # datasets (hit: matches every word, not a near name only)
    record_score: str    # a matching record's score when records are ranked
    tsq: str             # the query's tsquery (SQL), 'NULL::tsquery' for an empty query
    empty: bool
    ceiling: str = "'Infinity'::real"  # a walk: no matching record ranks higher (ceiling.py)
    record_bound: str = "0::float8"  # record_score without the title fit: at most 1 below it
    # RANKED, where the title fit takes the spelled-out shortcut (title_fit_sql): the
    # shortcut's condition (a title it holds for fits exactly 1), and record_score with
    # another fit expression in its place (the same arithmetic, so the same scores)
    record_spelled: str | None = None
    title_ws: str = ""   # the fit without the shortcut: word_similarity(query, d.title)
    _score_parts: tuple[str, str] = ("", "")

    def score_with_fit(self, fit: str) -> str:
        return _score_sql(*self._score_parts, fit)


def _score_sql(record_fit: str, preferences: str, title_fit: str) -> str:
    """A ranked record's score: its words' fit, its title's fit and the preferences."""
    return f"({record_fit} + {title_fit} + {preferences})::float8"


def tsquery_sql(q: ParsedQuery, sql: Where, *, any_word: bool = False,
                only: Iterable[int] | None = None,
                exact: Sequence[str | None] = ()) -> str:
    """The query's tsquery: every word (any word), or only the words at indexes `only`.
    `exact`: per word, a lexeme whose records are exactly the word's (Words.exact), matched
    alone: one posting list, not the merge of the word's alternatives' (and its prefix's)."""
    def group(g: tuple[str, ...]) -> str:
        return "(" + " | ".join(g) + ")"

    keep = set(range(len(q.groups)) if only is None else only)
    alone = sorted(i for i in keep if i < len(exact) and exact[i])
    lexemes = [exact[i] for i in alone]
    keep -= set(alone)
    groups = [g for i, g in enumerate(q.groups) if i in keep]
    last = groups.pop() if q.prefix and len(q.groups) - 1 in keep else None
    parts = []
    if groups:
        joiner = " | " if any_word else " & "
        parts.append(f"to_tsquery('indonesian', {sql.param(joiner.join(map(group, groups)))})")
    if last is not None:
        parts.append(f"(to_tsquery('indonesian', {sql.param(group(last))}) || "
                     f"to_tsquery('simple', {sql.param(q.prefix + ':*')}))")
    # (a quoted lexeme is taken as it is, not stemmed again)
    parts += [f"{sql.param(_quoted(lex))}::tsquery" for lex in lexemes]
    return "(" + (" || " if any_word else " && ").join(parts) + ")"


def _quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def _records_match(q: ParsedQuery, sql: Where, tsq: str, checked: frozenset[int],
                   exact: Sequence[str | None] = (), narrow: str | None = None) -> str:
    """How a record matches every word. The words in `checked` (each in over 30 % of the
    documents, facet_counts.words_of) are checked on the rows the other words find
    through the GIN index, not intersected inside it: the index decodes every posting of a
    word in 700,000 documents to keep the 1,541 that also hold "sangatta utara 2024".
    `narrow`: a lexeme every record under the filters holds (Words.narrow), ANDed with the
    words the index looks up."""
    rare = [i for i in range(len(q.groups)) if i not in checked]
    also = f" && {sql.param(_quoted(narrow))}::tsquery" if narrow else ""
    if not checked or not rare:
        words = tsquery_sql(q, sql, exact=exact) if any(exact) else tsq
        return f"d.tsv @@ ({words}{also})" if also else f"d.tsv @@ {words}"
    # (ts_match_vq is the @@ operator as a function: the planner never takes it to the index)
    return (f"d.tsv @@ ({tsquery_sql(q, sql, only=rare, exact=exact)}{also}) "
            f"AND ts_match_vq(d.tsv, {tsquery_sql(q, sql, only=checked, exact=exact)})")


def filters_sql(f: Filters, sql: Where) -> list[str]:
    conds = []
    for column, value in (("kind", f.kind), ("dataset", f.dataset), ("topic", f.topic),
                          ("publisher", f.publisher)):
        if value is not None:
            conds.append(f"d.{column} = {sql.param(value)}")
    if f.region is not None:
        conds.append(f"(d.region_code = {sql.param(f.region)} "
                     f"OR d.region_code LIKE {sql.param(f.region + '.%')})")
    if f.current_datasets is not None:
        conds.append(f"d.dataset = ANY({sql.param(list(f.current_datasets))}::text[])")
    if f.period_from is not None:
        conds.append(f"d.period >= {sql.param(f.period_from)}")
    if f.period_to is not None:
        conds.append(f"d.period < {sql.param(f.period_to + '~')}")  # "2024" keeps "2024-05"
    return conds


def _words_matched(q: ParsedQuery, sql: Where) -> str:
    """How many of the typed words a document matches (the partial answer's order)."""
    parts = []
    for i, g in enumerate(q.groups):
        alts = " | ".join(g)
        tsq = f"to_tsquery('indonesian', {sql.param(alts)})"
        if q.prefix and i == len(q.groups) - 1:
            tsq = f"({tsq} || to_tsquery('simple', {sql.param(q.prefix + ':*')}))"
        parts.append(f"(d.tsv @@ {tsq})::int")
    return "(" + " + ".join(parts) + ")"


def _preferences(q: ParsedQuery, sql: Where) -> str:
    """Small boosts: the level, year and sex the query names; current places, newer periods."""
    terms = ["0.2 * d.static_rank"]
    depth = "cardinality(string_to_array(d.region_code, '.'))"
    if q.level is not None:
        terms.append(f"CASE WHEN {depth} = {sql.param(q.level)} THEN 1 ELSE 0 END")
    if q.year is not None:
        terms.append(f"CASE WHEN left(d.period, 4) = {sql.param(q.year)} THEN 0.5 ELSE 0 END")
    if q.sex is not None:
        terms.append(f"CASE WHEN position({sql.param(q.sex)} IN d.title) > 0 THEN 0.5 ELSE 0 END")
    return " + ".join(terms)


def _others_sql(q: ParsedQuery, sql: Where, tsq: str, common: str, fit: str) -> str:
    """Regions and datasets: few, always all ranked. Matching every word beats a near name; an
    exact name beats all; a kecamatan goes before the desa of the same name; a level word
    moves that level first; a retired place (its static rank is 0) after every place in
    force that matches, even by its exact old name (its successors are in its snippet)."""
    text = sql.param(q.text)
    # (the corrected text only where a typo was corrected: a trigram test costs ~2 us a name)
    fixed = text if q.corrected == q.text else sql.param(q.corrected)
    similar, near = f"similarity(d.name, {text})", f"d.name % {text}"
    if fixed != text:
        similar = f"greatest({similar}, similarity(d.name, {fixed}))"
        near = f"{near} OR d.name % {fixed}"
    rank = f"ts_rank_cd('{{0.02, 0.05, 0.4, 1.0}}', d.tsv, {tsq}, 32)"
    return f"""SELECT d.doc_id, {FACET_COLS}, d.kecamatan_name,
            ({fit} + CASE WHEN d.tsv @@ {tsq} THEN {rank} ELSE 0 END
            + CASE WHEN d.kind = 'region' THEN 0.1 * greatest(0, 4 - cardinality(
                   string_to_array(d.region_code, '.'))) ELSE 0 END
            + {similar}
            + CASE WHEN lower(d.name) IN ({text}, {fixed})
                     OR EXISTS (SELECT 1 FROM unnest(d.aliases) a
                                WHERE lower(a) IN ({text}, {fixed}))
                   THEN 5 ELSE 0 END + {_preferences(q, sql)}
            - CASE WHEN d.kind = 'region' AND d.static_rank = 0 THEN 6 ELSE 0 END
            )::float8 AS score, d.tsv @@ {tsq} AS hit
        FROM documents d
        WHERE d.kind <> 'record'
          AND (d.tsv @@ {tsq} OR {near}) AND {common}"""


def title_fit_sql(text: str, sql: Where) -> tuple[str, str | None, str]:
    """SQL: ``word_similarity(text, d.title)``, how much of the query a record's title spells
    out, as (the fit, its shortcut's condition or None, word_similarity alone). A title that
    spells out an ASCII query's words whole, in order, one after the other (only spaces or
    punctuation between) scores exactly 1: that extent holds the query's trigrams and no other
    (with another word between, or out of order, pg_trgm's extent search scores less). So that
    is tested first: a case-blind LIKE of the words in order (under 1 us a title) and, where it
    holds, the regex (about 2 us); the trigram extent search costs 8-15 us, and a ranked page
    scores up to RANK_ALL_UP_TO records. The shortcut only ever answers 1 where
    word_similarity does, so a title it misses is scored the long way, never wrongly. pg_trgm
    splits words where ``\\m`` and ``\\M`` do (an underscore, a word character to the regex
    only, just loses the shortcut)."""
    ws = f"word_similarity({sql.param(text)}, d.title)"
    words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
    if not text.isascii() or not words:
        return ws, None, ws
    spelled = "[^[:alnum:]]+".join(rf"\m{w}\M" for w in words)
    # (the words hold no LIKE wildcard: they are [a-z0-9]+. The LIKE only lets the regex
    # decide, so it may fold case by ASCII alone: in "C", 0.25 us a title, not 0.65)
    shortcut = (f"(d.title COLLATE \"C\" ILIKE {sql.param('%' + '%'.join(words) + '%')} "
                f"AND d.title ~* {sql.param(spelled)})")
    return f"CASE WHEN {shortcut} THEN 1 ELSE {ws} END", shortcut, ws


def build(q: ParsedQuery, f: Filters, snapshot: int, *, mode: str,
          checked: frozenset[int] = frozenset(), others: bool = True,
          exact: Sequence[str | None] = (), narrow: str | None = None) -> Match:
    """The match of `q` under filters `f`, as seen by a walk that began at `snapshot`.
    In PARTIAL mode a document matches by any word, and scores by how many it matches.
    `checked`: indexes of words checked on rows rather than through the index (_records_match).
    `exact`: per word, a lexeme that finds exactly its records (Words.exact), for records only:
    regions and datasets (not in the kept counts) still match by every alternative.
    `narrow`: a lexeme every record under the filters holds (Words.narrow), records only.
    `others` False: no SQL (nor arguments) for regions and datasets (a page takes those the
    counts matched, Counts.others)."""
    if others and f.kind == "record":  # (no region or dataset can match: no plan to make for
        # them, 0.2-0.5 ms of planning where their conditions contradict the filter's)
        m = _build(q, f, snapshot, mode=mode, checked=checked, others=False, exact=exact,
                   narrow=narrow)
        return replace(m, others=NO_OTHERS.format(tsq=m.tsq))
    return _build(q, f, snapshot, mode=mode, checked=checked, others=others, exact=exact,
                  narrow=narrow)


def _build(q: ParsedQuery, f: Filters, snapshot: int, *, mode: str, checked: frozenset[int],
           others: bool, exact: Sequence[str | None], narrow: str | None) -> Match:
    sql = Where()
    common = " AND ".join([f"d.created_seq <= {sql.param(snapshot)}", *filters_sql(f, sql)])
    # (a walk under a period filter starts at the newest rank a record of it can have)
    period_top = period_ceiling_sql(f)
    if q.empty:
        records = f"d.kind = 'record' AND {common}"
        if f.region_level == "kecamatan":  # (the same records: their index walks by it)
            records += f" AND d.kecamatan_code = {sql.param(f.region)}"
        return Match(sql, common, records,
                     f"SELECT d.doc_id, {FACET_COLS}, d.kecamatan_name, "
                     f"(d.static_rank)::float8 AS score, false AS hit FROM documents d "
                     f"WHERE d.kind <> 'record' AND {common}" if others else "",
                     "d.static_rank::float8", "NULL::tsquery", True,
                     ceiling=period_top or "'Infinity'::real")
    tsq = tsquery_sql(q, sql, any_word=mode == PARTIAL)
    matches = (_records_match(q, sql, tsq, frozenset()) if mode == PARTIAL
               else _records_match(q, sql, tsq, checked, exact, narrow))
    if mode == PARTIAL:
        fit = _words_matched(q, sql)
    else:
        fit = f"CASE WHEN d.tsv @@ {tsq} THEN 1 ELSE 0 END"
    others_sql = _others_sql(q, sql, tsq, common, fit) if others else ""
    # its arguments come last: the counts statement, which never scores records, uses a prefix
    # not ts_rank_cd (tens of microseconds a record, over large tsvectors): how much of the
    # query the title (dataset, place, period, dimension values) spells out
    record_score = record_bound = "d.static_rank::float8"
    ceiling = "'Infinity'::real"
    spelled, ws, parts = None, "", ("", "")
    if mode != WALK:
        # (a partial match's title never spells out every word, its tsvector would hold them;
        # a word being typed is mostly the beginning of a title's longer word)
        if mode == PARTIAL or q.prefix is not None:
            rank = f"word_similarity({sql.param(q.corrected)}, d.title)"
        else:
            rank, spelled, ws = title_fit_sql(q.corrected, sql)
        # (a record matches every word in RANKED mode: its fit is 1, not a second @@)
        record_fit = fit if mode == PARTIAL else "1"
        preferences = _preferences(q, sql)
        parts = (record_fit, preferences)
        record_score = _score_sql(record_fit, preferences, rank)
        # the title fit is in [0, 1]: the score without it bounds the score within 1
        record_bound = f"({record_fit} + {preferences})::float8"
    else:
        ceiling = rank_ceiling_sql(q, sql.param)
        if period_top is not None:
            ceiling = f"least({ceiling}, {period_top})"
    return Match(sql, common, f"{matches} AND d.kind = 'record' AND {common}",
                 others_sql, record_score, tsq, False, ceiling, record_bound, spelled, ws, parts)


def of_year_sql(q: ParsedQuery, sql: Where) -> str | None:
    """A partial match's records of the year the query names that match another of its words
    too (through the tsvector index, the year's lexeme and the other words'). Its arguments
    are added only when the statement uses it (an unused ``$n`` has no type)."""
    rest = [i for i, g in enumerate(q.groups) if g != (q.year,)]
    if q.year is None or not rest:
        return None
    year = sql.param(q.year)
    return (f"d.tsv @@ ({tsquery_sql(q, sql, any_word=True, only=rest)} "
            f"&& to_tsquery('simple', {year})) AND left(d.period, 4) = {year}")


def _json(value):
    return json.loads(value) if isinstance(value, str) else value
