"""A search transaction's first statement: its settings, the index version, a walk's
snapshot, the typo corrections and, where they can be foreseen, what the kept counts hold of
the query's words and the place they name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import asyncpg

from services.search.sql import facet_counts
from services.search.sql.match import _json


@dataclass(frozen=True)
class Opening:
    """What a search transaction's first statement read (open_search)."""

    version: int                    # the index version (the answer cache's key)
    snapshot: int                   # a walk's snapshot: documents created after it stay hidden
    fixes: dict[str, list[str]]     # per word not in the vocabulary, its closest words
    known: set[str]                 # the words that are in it
    begins: set[str]                # the words that begin a longer one in it
    lexemes: list[Any] | None       # per word, search.word_lexemes' rows (None: not asked)
    place: dict | None              # the place the words name (search.place_named), if asked
    region: dict | None = None      # the region filter's level and, for a village, its own
                                    # lexeme (search.region_lexeme)


async def open_search(conn: asyncpg.Connection, ms: int, words: Sequence[str],
                      threshold: float,
                      lexemes: list[tuple[str, str | None, str | None]] | None = None,
                      place: tuple[list[str], list[str], int | None] | None = None,
                      region: str | None = None) -> Opening:
    """The first statement of a search transaction, one round trip: settings for this
    transaction only, the index version, a walk's snapshot (documents created after it stay
    hidden along the walk), and the typo corrections: for each word not in the vocabulary,
    the closest vocabulary words (trigram similarity); the words that are in it; and the
    words that begin a longer one in it (typed as a prefix, such a word needs no correction).
    With `lexemes` (alternatives, prefix, unless_known per word), what the kept counts hold
    of those words too (`facet_counts.words_of`'s lookup, made here where the caller can
    foresee the parse). With `place` (the typed words, the level words, the level typed),
    the place they name (answer_store.place_named, for the figure a question asks). With
    `region` (a region filter), its level and, for a village, the lexeme every record
    document of it holds (`search.region_lexeme`, migrations 0017 and 0018). The reads are
    `search.search_opening` (migration 0013), planned once per session: planned
    per call they cost 0.3-0.45 ms to plan and 0.1-0.2 to run.
    Settings: plans made for the actual words and filters (a generic plan cannot estimate how
    many documents a tsquery matches), without JIT (its compile time is longer than these
    queries run); the index lives in memory or on SSD (random_page_cost); many clients share
    few cores (no parallel workers); facet hash tables stay in memory (work_mem)."""
    row = await conn.fetchrow("""
        SELECT set_config('statement_timeout', $1, true),
               set_config('plan_cache_mode', 'force_custom_plan', true),
               set_config('jit', 'off', true), set_config('random_page_cost', '1.1', true),
               set_config('max_parallel_workers_per_gather', '0', true),
               set_config('work_mem', '32MB', true),
               o.version, o.snapshot, o.typed, o.lexemes, o.place, region_lexeme($12) AS region
        FROM search_opening($2, $3, $4, $5, $6, $7, $8, $9, $10, $11) o""",
        str(int(ms)), list(words), threshold, *facet_counts.lexemes_args(lexemes or []),
        *(place or (None, None, None)), region)
    found = _json(row["typed"]) or []
    return Opening(row["version"] or 0, row["snapshot"],
                   {x["w"]: list(x["alts"]) for x in found if x["alts"]},
                   {x["w"] for x in found if x["known"]}, {x["w"] for x in found if x["begins"]},
                   None if not lexemes else facet_counts.lexemes_by_word(
                       _json(row["lexemes"]) or [], len(lexemes)),
                   _json(row["place"]), _json(row["region"]))
