"""SQL for reference classifications. Functions never commit."""

from __future__ import annotations

import asyncpg

SUMMARY = ("name, title, source, (SELECT count(*) FROM jsonb_object_keys(codes))::int AS count, "
           "hash, loaded_by, loaded_at")


async def put(conn: asyncpg.Connection, name: str, title: str, source: str, codes: dict,
              by: str) -> None:
    await conn.execute(
        """INSERT INTO reference_classifications (name, title, source, codes, hash, loaded_by)
           SELECT $1, $2, $3, c, encode(sha256(convert_to(c::text, 'UTF8')), 'hex'), $5
           FROM (SELECT $4::jsonb AS c) s
           ON CONFLICT (name) DO UPDATE SET title = excluded.title, source = excluded.source,
             codes = excluded.codes, hash = excluded.hash, loaded_by = excluded.loaded_by,
             loaded_at = now()""", name, title, source, codes, by)


async def get(conn: asyncpg.Connection, name: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT {SUMMARY}, codes FROM reference_classifications "
                              "WHERE name = $1", name)
    return dict(row) if row else None


async def summaries(conn: asyncpg.Connection) -> list[dict]:
    return [dict(r) for r in await conn.fetch(
        f"SELECT {SUMMARY} FROM reference_classifications ORDER BY name")]
