"""The search use case: match, count, page; partial answers, suggestions, the answer cache."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace

import asyncpg

from services.search import answer_store, asked, currency, store
from services.search.sql import cells, facet_counts, facets, match, opening, page
from services.search.cache import AnswerCache
from services.search.cursor import decode_cursor, encode_cursor, query_hash
from services.search.models import (FACETS, PARTIAL, WALK, Counts, Cursor, Filters,
                                     ParsedQuery, SearchResults)
from services.search.query_text import parse_words, typo_candidates
from shared.errors import ServiceUnavailable

URLS = {"dataset": "/v1/datasets/{}", "region": "/v1/regions/{}", "record": "/v1/records/{}"}
SUGGEST_RATIO = 0.6
PARTIAL_NOTE = ("Tidak ada hasil yang memuat semua kata; ini hasil yang paling mendekati "
                "(yang memuat kata terbanyak).")
LOWER_BOUND_NOTE = "Lebih dari 10.000 hasil; jumlah yang ditampilkan adalah batas bawah."


async def search(pool: asyncpg.Pool, cache: AnswerCache, text: str, filters: Filters, *,
                 limit: int, cursor: str | None, prefix: bool, typo_similarity: float,
                 facet_values_max: int, statement_timeout_ms: int,
                 rank_limit: int = page.RANK_ALL_UP_TO) -> SearchResults:
    return (await search_cached(pool, cache, text, filters, limit=limit, cursor=cursor,
                                prefix=prefix, typo_similarity=typo_similarity,
                                facet_values_max=facet_values_max,
                                statement_timeout_ms=statement_timeout_ms,
                                rank_limit=rank_limit))[0]


async def search_cached(pool: asyncpg.Pool, cache: AnswerCache, text: str, filters: Filters, *,
                        limit: int, cursor: str | None, prefix: bool, typo_similarity: float,
                        facet_values_max: int, statement_timeout_ms: int,
                        rank_limit: int = page.RANK_ALL_UP_TO) -> tuple[SearchResults, bytes]:
    """The answer and its JSON. A repeated query costs one statement (the index version)."""
    at = currency.now()
    # (a `current` answer holds until the next 23:59 WITA, when datasets fall due)
    day = currency.day_of(at) if filters.current else ""
    qhash = query_hash(f"{text}\x00{prefix}\x00{day}", filters)
    position = decode_cursor(cursor, qhash) if cursor else None
    async with pool.acquire() as conn:
        if cache.size > 0:
            hit = cache.get((await store.index_version(conn), qhash, cursor, limit))
            if hit is not None:
                return hit
        try:
            async with conn.transaction(readonly=True, isolation="repeatable_read"):
                candidates = typo_candidates(text)
                whole = parse_words(text, prefix, {}, complete=set(candidates))
                foreseen = _foreseen(whole, text, prefix, candidates, filters)
                opened = await opening.open_search(
                    conn, statement_timeout_ms, candidates, typo_similarity,
                    lexemes=foreseen.lexemes if foreseen else None,
                    place=asked.place_lookup(whole) if position is None else None,
                    region=filters.region)
                key = (opened.version, qhash, cursor, limit)
                if filters.region is not None:
                    filters = replace(filters, region_level=(opened.region or {}).get("level"))
                if filters.current:
                    filters = replace(filters, current_datasets=tuple(
                        await currency.current_datasets(conn, at)))
                parsed = (whole if not opened.fixes and opened.known >= set(candidates)
                          else parse_words(text, prefix, opened.fixes, complete=opened.known,
                                           begins=opened.begins))
                words = await facet_counts.words_of(
                    conn, parsed, filters,
                    foreseen.rows_for(parsed, opened.lexemes) if foreseen else None,
                    region=opened.region)
                answer = await _answer(conn, text, parsed, filters, position, qhash,
                                       position.snapshot if position else opened.snapshot,
                                       words, opened.place, limit=limit,
                                       facet_values_max=facet_values_max,
                                       rank_limit=rank_limit)
        except asyncpg.QueryCanceledError as exc:
            raise ServiceUnavailable("Pencarian terlalu lama; persempit kata kunci atau filter.",
                                     code="search_timeout") from exc
    entry = (answer, answer.model_dump_json().encode())
    cache.put(key, entry)
    return entry


@dataclass(frozen=True)
class _Foreseen:
    """The parse a query gets when every word it types is in the vocabulary (`whole`), and,
    where its last word would be typed as a prefix were it not (the only other parse without
    typo corrections), that one (`begun`): the opening statement looks up their words' kept
    counts, so the words' statement is made only when a typo correction changed the parse."""

    whole: ParsedQuery
    begun: ParsedQuery | None
    lexemes: list[tuple[str, str | None, str | None]]

    def rows_for(self, parsed: ParsedQuery, rows: list | None) -> list | None:
        if rows is None:
            return None
        n = len(self.whole.groups)
        if parsed == self.whole:
            return rows[:n]
        if parsed == self.begun:
            return rows[:n - 1] + [rows[n]]
        return None


def _foreseen(whole: ParsedQuery, text: str, prefix: bool, candidates: list[str],
              f: Filters) -> _Foreseen | None:
    looked = facet_counts.lexeme_words(whole, f)
    if looked is None:
        return None
    lexemes = [(w, p, None) for w, p in looked]
    begun = None
    if candidates:
        last = candidates[-1]
        begun = parse_words(text, prefix, {}, complete=set(candidates[:-1]), begins={last})
        also = facet_counts.lexeme_words(begun, f)
        if begun.prefix != last or also is None or also[:-1] != looked[:-1]:
            begun = None
        else:  # (looked up only where the opening statement finds the word not known)
            lexemes.append((also[-1][0], also[-1][1], last))
    return _Foreseen(whole, begun, lexemes)


async def _counted(conn: asyncpg.Connection, q: ParsedQuery, f: Filters, snapshot: int,
                   mode: str | None, values_max: int, rank_limit: int,
                   words: facet_counts.Words, page_length: int) -> tuple[str, Counts, float]:
    """The mode (kept from the cursor, or chosen on the first page), counts and the number
    of record matches: from the counts the indexer keeps where they answer (a word's; several
    words' where the rarest one's records hold the others; no word's, every record's or, under
    filters, the cells they keep: cells.py), else from the matches (exact up
    to 10,000, which is all the choice of mode needs: no planner estimate; on a first page
    they also return it, `page_length` items, Counts.first_page); when no document has every
    word, the partial match answers instead."""
    if mode != PARTIAL:
        strict = match.build(q, f, snapshot, mode="ranked", checked=words.common,
                             exact=words.exact, narrow=words.narrow)
        expected = min(words.records, default=0)  # (what the kept counts count: below)

        def first_page() -> page.FirstPage:
            chosen = page.mode_for(expected, rank_limit)
            m, few = _page_match(q, f, snapshot, chosen, words, expected)
            return page.first_page(m, chosen, page_length, expected, few)

        def browsed(records_sql: str) -> page.FirstPage:
            return page.browse_first_page(
                match.build(q, f, snapshot, mode=WALK, others=False), page_length,
                records_sql, in_order=_in_order(q, f), few_up_to=facets.EXACT_UP_TO)
        counts = (await facet_counts.exact_counts(conn, q, f, strict, values_max=values_max,
                                                  terms=words.terms,
                                                  first_page=None if mode else first_page)
                  or await cells.counts(conn, strict, f, values_max=values_max,
                                        first=None if mode else browsed)
                  or await facets.count(conn, strict, values_max=values_max,
                                        first_page=None if mode else (rank_limit, page_length)))
        if counts.every_word or len(q.groups) < 2 or mode is not None:
            chosen = WALK if _in_order(q, f) else page.mode_for(counts.records, rank_limit)
            return mode or chosen, counts, counts.records
    loose = match.build(q, f, snapshot, mode=PARTIAL)
    counts = (await facet_counts.widest_word_counts(conn, f, loose, values_max=values_max,
                                                    words=words)
              or await facets.count(conn, loose, values_max=values_max))
    return PARTIAL, counts, counts.records


def _page_match(q: ParsedQuery, f: Filters, snapshot: int, mode: str,
                words: facet_counts.Words, estimate: float) -> tuple[match.Match, bool]:
    """The match a page reads its records by (the counts hold its regions and datasets), and
    whether few records match (at most EXACT_UP_TO: sorted, not walked)."""
    # (a walk through many matches keeps every alternative: matching one lexeme, the planner
    # takes the words for independent, expects a few hundred matches of "sangatta utara"
    # where 28,000 are, and sorts them all instead of walking: 2 -> 29 ms)
    few = estimate <= facets.EXACT_UP_TO and not _in_order(q, f)
    return match.build(q, f, snapshot, mode=mode, checked=words.common, others=False,
                       exact=words.exact if few or mode != WALK else (),
                       narrow=words.narrow), few


def _in_order(q: ParsedQuery, f: Filters) -> bool:
    """Whether the page walks its records in static rank however few match: an empty query
    over one dataset in one kecamatan, whose records an index holds in that order
    (documents_dataset_kecamatan_walk, migration 0019; with match.build's kecamatan)."""
    return q.empty and f.dataset is not None and f.region_level == "kecamatan"


async def _answer(conn: asyncpg.Connection, text: str, q: ParsedQuery, f: Filters,
                  position: Cursor | None, qhash: str, snapshot: int,
                  words: facet_counts.Words, place: dict | None, *, limit: int,
                  facet_values_max: int, rank_limit: int) -> SearchResults:
    """`place`: what the opening statement found the query's words name (on a first page of
    several words; asked.place_lookup)."""
    mode, counts, estimate = await _counted(conn, q, f, snapshot,
                                            position.mode if position else None,
                                            facet_values_max, rank_limit, words, limit + 1)
    if counts.first_page is not None:  # (a first page: the counts' statement returned it)
        rows = counts.first_page
    else:
        m, few = _page_match(q, f, snapshot, mode, words, estimate)
        rows = await page.fetch(conn, m, mode, position, limit + 1, others=counts.others,
                                partial_many=estimate > page.PARTIAL_CANDIDATES,
                                few=few, q=q)
    unmatched: list[str] = []
    if (mode == PARTIAL or not counts.total) and not q.empty:
        unmatched = [q.labels[i]
                     for i in await answer_store.words_nothing_holds(conn, q.groups, q.prefix)]
    suggestion = None if counts.total or q.empty else await _suggestion(conn, q, unmatched)
    figure = (await asked.asked_figure(conn, q, place)
              if position is None and counts.total and mode != PARTIAL else None)
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(Cursor(score=last["score"], doc_id=last["doc_id"],
                                           snapshot=snapshot, query_hash=qhash, mode=mode))
    for item in items:
        item["url"] = URLS[item["kind"]].format(item.pop("doc_id").split(":", 1)[1])
    return SearchResults(
        query=text, items=items, total=counts.total, next_cursor=next_cursor,
        facets={name: counts.facets.get(name, []) for name in FACETS}, exact=counts.exact,
        partial=mode == PARTIAL and bool(counts.total), ignored_words=list(q.ignored),
        unmatched_words=unmatched, suggestion=suggestion, figure=figure,
        message=_message(counts, mode, suggestion, unmatched, _place_of(items)))


async def _suggestion(conn: asyncpg.Connection, q: ParsedQuery,
                      unmatched: list[str]) -> str | None:
    """'maksud Anda ...': each word nothing holds replaced by the closest known one; the words
    that matched, and the question and filler words dropped, are never rewritten. Only asked
    when nothing matched, where trigrams have already failed: difflib's ratio also pairs words
    that share letters but few trigrams ("pnddk" -> "penduduk")."""
    words = list(q.labels)
    known = set(await store.vocabulary_words(conn))
    fixed = [next(iter(difflib.get_close_matches(w, known, n=1, cutoff=SUGGEST_RATIO)), w)
             if w in unmatched and not w.isdigit() and w not in known else w for w in words]
    return " ".join(fixed) if fixed != words else None


LEVEL_NAMES = {2: "Kabupaten", 3: "Kecamatan"}


def _place_of(items: list[dict]) -> str | None:
    """The place a partial answer is about: its first region, named with its level."""
    region = next((i for i in items if i["kind"] == "region"), None)
    if region is None:
        return None
    level, name = LEVEL_NAMES.get(region["region_code"].count(".") + 1), region["title"]
    return f"{level} {name}" if level and not name.startswith(level) else name


def _message(counts: Counts, mode: str, suggestion: str | None, unmatched: list[str],
             place: str | None) -> str | None:
    if not counts.total:
        if suggestion:
            return f"Tidak ada hasil. Maksud Anda: {suggestion}?"
        if unmatched:
            return (f"Belum ada data tentang {_quoted(unmatched)}; coba kata lain atau "
                    f"kurangi filter.")
        return "Tidak ada hasil; coba kata lain atau kurangi filter."
    if mode == PARTIAL:
        if unmatched:
            where = f" untuk {place}" if place else ""
            return (f"Belum ada data tentang {_quoted(unmatched)}{where}; yang ditampilkan "
                    f"adalah hasil untuk kata lainnya.")
        return PARTIAL_NOTE
    return None if counts.exact else LOWER_BOUND_NOTE


def _quoted(words: list[str]) -> str:
    return ", ".join(f"“{w}”" for w in words)
