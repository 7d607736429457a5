"""The reads that explain or narrow an answer rather than find it (SQL): which typed words
nothing holds, which place a question names, which dataset measures it there, and which
datasets are up to date (``current=true``)."""

from __future__ import annotations

import json
from typing import Any, Sequence

import asyncpg

from services.search.sql.match import _json
from shared.reporting_calendar import Coverage
from shared.sql import valid_on


async def words_nothing_holds(conn: asyncpg.Connection, groups: Sequence[Sequence[str]],
                              prefix: str | None) -> list[int]:
    """Indexes of the typed words (each its alternatives; the last one may also match as a
    prefix) that no document holds at all: nothing is published about them. A word one of
    whose lexemes the kept counts hold for a record is held (one index probe; the tsvector
    index builds the whole bitmap of a common word, 700,000 documents at 1,000,000 records,
    to find its first); else one probe of the tsvector index. (A phrase alternative
    "sekolah <-> dasar" is held only as a phrase: the probe decides.)"""
    rows = await conn.fetch("""
        SELECT g.i - 1 AS i FROM unnest($1::text[], $3::text[]) WITH ORDINALITY g(alts, words, i)
        WHERE CASE WHEN EXISTS (
                  SELECT 1 FROM unnest(tsvector_to_array(to_tsvector('indonesian', g.words))) l
                  JOIN facet_counts f ON f.term = l AND f.facet = 'kind' AND f.n > 0)
              THEN false
              ELSE NOT EXISTS (
                  SELECT 1 FROM documents d
                  WHERE d.tsv @@ CASE WHEN g.i = cardinality($1::text[]) AND $2::text IS NOT NULL
                                      THEN to_tsquery('indonesian', g.alts)
                                           || to_tsquery('simple', $2::text || ':*')
                                      ELSE to_tsquery('indonesian', g.alts) END) END
        ORDER BY 1""", [" | ".join(g) for g in groups], prefix,
        [None if any(" " in alt for alt in g) else " ".join(g) for g in groups])
    return [r["i"] for r in rows]


async def place_named(conn: asyncpg.Connection, words: Sequence[str],
                      level_words: Sequence[str], level: int | None) -> dict | None:
    """The place in force whose name (or an alias), without its level word, is all among the
    typed `words`: the longest such name; the level typed, then the higher level, first
    (`search.place_named`, search migration 0013; the opening statement reads it where it
    can: sql/opening.py)."""
    return _json(await conn.fetchval("SELECT place_named($1, $2, $3)",
                                     list(words), list(level_words), level))


async def dataset_measured_at(conn: asyncpg.Connection, tsq: str, args: Sequence[Any],
                              region_code: str) -> dict | None:
    """The best-ranked dataset matching `tsq` (SQL over `args`) that holds a record at or below
    the region: the datasets (a few dozen, their words read row by row) in rank order, each
    probed for a record there until one has one: an index probe of the place's code, then a
    walk of its descendants' codes in order (a join read every record of the region, 78,000 of
    a kecamatan at 1,000,000 records; an EXISTS, a scan of the table from its start). The
    probes compare in the documents' collation: `datasets.slug` is COLLATE "C", and a
    condition of another collation is no index condition (the walk read 5,841 records of the
    kecamatan from the heap to meet one of the dataset's). `search.dataset_measured_at`
    (migration 0016) is planned once per session."""
    row = await conn.fetchrow(
        f"SELECT slug, title, dimension_values FROM dataset_measured_at({tsq}, "
        f"${len(args) + 1})", *args, region_code)
    if row is None:
        return None
    out = dict(row)
    values = out["dimension_values"]
    out["dimension_values"] = json.loads(values) if isinstance(values, str) else values or {}
    return out


async def datasets_for_currency(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Each dataset's frequency, creation, unit levels and newest period indexed (one probe
    of the (dataset, period) index each: compared in `datasets.slug`'s own collation, "C",
    the index was no use and each dataset read all of it, 622 ms at 1,000,000 records)."""
    return await conn.fetch("""
        SELECT s.slug, s.payload->>'frequency' AS frequency,
               s.payload->>'created_at' AS created,
               coalesce(array_to_string(ARRAY(SELECT jsonb_array_elements_text(
                   s.payload->'schema'->'region_levels')), ','), 'desa,kelurahan') AS levels,
               (SELECT max(d.period) FROM documents d
                WHERE d.dataset = s.slug COLLATE "default") AS newest
        FROM datasets s ORDER BY s.slug""")


async def coverage(conn: asyncpg.Connection, wanted: list[tuple[str, str, str, str]]
                   ) -> dict[str, Coverage]:
    """Per (dataset, period due, unit levels, the period's last day): units that sent the
    period, of those valid on its last day (the registry's rule, over search's copies)."""
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"""SELECT w.slug,
                   (SELECT count(DISTINCT d.region_code) FROM documents d
                    JOIN regions g ON g.code = d.region_code
                    WHERE d.kind = 'record' AND d.dataset = w.slug AND d.period = w.period
                      AND g.level = ANY(string_to_array(w.levels, ','))
                      AND {valid_on("g", "w.day")}) AS reported,
                   (SELECT count(*) FROM regions g
                    WHERE g.level = ANY(string_to_array(w.levels, ','))
                      AND {valid_on("g", "w.day")}) AS expected
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                 AS w(slug, period, levels, day)""",
        *([w[i] for w in wanted] for i in range(4)))
    return {r["slug"]: Coverage(r["reported"], r["expected"]) for r in rows}
