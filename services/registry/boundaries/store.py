"""SQL for region boundaries. Functions never commit."""

from __future__ import annotations

from datetime import date

import asyncpg


async def replace(conn: asyncpg.Connection, rows: list[tuple[str, dict]], *, source: str,
                  sample: bool, valid_from: date | None, valid_until: date | None,
                  by: str) -> None:
    """The boundaries of these regions from ``valid_from`` on, replacing any loaded before
    for the same regions and start; each stored with the hash of its geometry."""
    codes = [code for code, _ in rows]
    await conn.execute(
        "DELETE FROM region_boundaries WHERE region_code = ANY($1::text[]) "
        "AND valid_from IS NOT DISTINCT FROM $2", codes, valid_from)
    await conn.executemany(
        """INSERT INTO region_boundaries (region_code, valid_from, valid_until, geometry, hash,
                                          source, sample, loaded_by)
           SELECT $1, $2, $3, g, encode(sha256(convert_to(g::text, 'UTF8')), 'hex'), $5, $6, $7
           FROM (SELECT $4::jsonb AS g) s""",
        [(code, valid_from, valid_until, geometry, source, sample, by)
         for code, geometry in rows])


async def children(conn: asyncpg.Connection, parent: str, on: date | None) -> list[dict]:
    """The boundaries of ``parent``'s children holding on ``on`` (every one when None), the
    newest start first per region."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (b.region_code) b.region_code, r.name, r.level, b.valid_from,
                  b.valid_until, b.geometry, b.source, b.sample
           FROM regions r JOIN region_boundaries b ON b.region_code = r.code
           WHERE r.parent_code = $1
             AND ($2::date IS NULL OR ((b.valid_from IS NULL OR b.valid_from <= $2)
                                       AND (b.valid_until IS NULL OR b.valid_until > $2)))
           ORDER BY b.region_code, b.valid_from DESC NULLS LAST""", parent, on)
    return [dict(r) for r in rows]


async def any_loaded(conn: asyncpg.Connection) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM region_boundaries)")
