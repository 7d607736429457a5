"""The place a query names, looked up through the index of name words (migration 0021): the
same answer as reading every name (migration 0013's `place_named`), for every name and alias
of Kutai Timur typed whole, in part, with a level word, among other words or beside another
place's, and found by the index, not by reading every name."""

from __future__ import annotations

import json
import re

from services.search import indexing
from services.search.query_text import LEVELS
from tests.integration.search.conftest import kutim_regions

# migration 0013's definition, the one that read every name (a copy: the test's reference)
READ_EVERY_NAME = """
    CREATE FUNCTION pg_temp.place_named_0013(typed_words text[], level_words text[],
                                             wanted_level int)
    RETURNS json LANGUAGE plpgsql STABLE SET search_path = search, public AS $$
    BEGIN
    RETURN (SELECT json_build_object('code', g.code, 'name', g.name, 'level', g.level,
                                     'words', n.words)
    FROM regions g
    CROSS JOIN LATERAL unnest(g.name || g.aliases) x(name)
    CROSS JOIN LATERAL (SELECT lower(x.name) AS lowered) l
    CROSS JOIN LATERAL (
        SELECT array_agg(w) AS words
        FROM regexp_split_to_table(l.lowered, '[^a-z0-9]+') w
        WHERE w <> '' AND w <> ALL(level_words)) n
    WHERE g.valid_until IS NULL
      AND EXISTS (SELECT 1 FROM unnest(typed_words) t WHERE strpos(l.lowered, t) > 0)
      AND n.words <@ typed_words
    ORDER BY cardinality(n.words) DESC,
             coalesce(cardinality(string_to_array(g.code, '.')) = wanted_level, false) DESC,
             cardinality(string_to_array(g.code, '.')), g.code
    LIMIT 1);
    END $$"""


def _asked(regions) -> list[tuple[list[str], int | None]]:
    """Typed word lists (with the level typed): each name and alias whole, its first word
    alone, its words with a level word and other words around them, beside the next place's
    name; a word typed in part."""
    names = [n for r in regions for n in [r.name, *r.aliases]]
    out: list[tuple[list[str], int | None]] = []
    for i, name in enumerate(names):
        words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]
        other = [w for w in re.split(r"[^a-z0-9]+", names[(i + 1) % len(names)].lower()) if w]
        out += [(words, None), (words[:1], None), (["jumlah", "penduduk", *words, "2024"], None),
                (["desa", *words], LEVELS["desa"]), (["kecamatan", *words], LEVELS["kecamatan"]),
                ([*words, *other], None), ([w[:-1] for w in words if len(w) > 3], None)]
    return out


async def test_place_named_by_the_index_answers_as_reading_every_name(search_db):
    regions = kutim_regions()
    async with search_db.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, regions)
        await conn.execute("ANALYZE regions")
        await conn.execute(READ_EVERY_NAME)
        asked = _asked(regions)
        level_words = list(LEVELS)
        found = 0
        for words, level in asked:
            new, old = await conn.fetchrow(
                "SELECT place_named($1, $2, $3)::text, pg_temp.place_named_0013($1, $2, $3)::text",
                words, level_words, level)
            assert new == old, (words, level)
            found += new is not None
        # (most lists name a place; a word typed in part names none)
        assert found > len(asked) // 2

        # the function's query, planned as the function plans it (one generic plan), reads
        # the places through the index of their name words
        body = await conn.fetchval("SELECT prosrc FROM pg_proc WHERE proname = 'place_named'")
        query = re.search(r"RETURN \((.*)\);\s*END", body, re.S).group(1)
        for name, n in (("typed_words", 1), ("level_words", 2), ("wanted_level", 3)):
            query = re.sub(rf"\b{name}\b", f"${n}", query)
        async with conn.transaction():
            await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await conn.execute(f"PREPARE named(text[], text[], int) AS {query}")
            plan = await conn.fetchval(
                "EXPLAIN (FORMAT JSON) EXECUTE named('{kongbeng,sekolah}', '{desa}', NULL)")
            await conn.execute("DEALLOCATE named")
    plan = json.loads(plan) if isinstance(plan, str) else plan
    assert "regions_name_words" in json.dumps(plan), plan
