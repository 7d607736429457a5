"""SQL of the privacy topic. Never commits."""

from __future__ import annotations

import uuid

import asyncpg


async def get_settings(conn: asyncpg.Connection, dataset_id: int) -> dict | None:
    row = await conn.fetchrow(
        "SELECT sensitive, k, publish_zero, updated_by, updated_at FROM dataset_privacy "
        "WHERE dataset_id = $1", dataset_id)
    return dict(row) if row else None


async def put_settings(conn: asyncpg.Connection, dataset_id: int, *, sensitive: bool, k: int,
                       publish_zero: bool, by: str) -> dict:
    row = await conn.fetchrow(
        """INSERT INTO dataset_privacy (dataset_id, sensitive, k, publish_zero, updated_by)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (dataset_id) DO UPDATE SET sensitive = excluded.sensitive,
             k = excluded.k, publish_zero = excluded.publish_zero,
             updated_by = excluded.updated_by, updated_at = now()
           RETURNING sensitive, k, publish_zero, updated_by, updated_at""",
        dataset_id, sensitive, k, publish_zero, by)
    return dict(row)


async def sensitive_by_slug(conn: asyncpg.Connection, slugs: list[str]) -> dict[str, dict]:
    rows = await conn.fetch(
        """SELECT d.slug, d.id, d.schema, p.k, p.publish_zero FROM dataset_privacy p
           JOIN datasets d ON d.id = p.dataset_id
           WHERE p.sensitive AND d.slug = ANY($1::text[])""", slugs)
    return {r["slug"]: dict(r) for r in rows}


async def cells_state(conn: asyncpg.Connection, dataset_id: int) -> tuple:
    """What a dataset's suppression pattern depends on, to know when a cached one is stale:
    the server and database, the records' last change and count, the dataset's version (its
    schema) and the region tree's versions."""
    row = await conn.fetchrow(
        """SELECT current_database(), pg_postmaster_start_time(),
                  (SELECT max(seq) FROM records WHERE dataset_id = $1),
                  (SELECT count(*) FROM records WHERE dataset_id = $1 AND status = 'current'),
                  (SELECT version FROM datasets WHERE id = $1),
                  (SELECT sum(version) FROM regions)""", dataset_id)
    return tuple(row)


async def cells(conn: asyncpg.Connection, dataset_id: int) -> list[dict]:
    """Every current record of the dataset with its region's path and level."""
    rows = await conn.fetch(
        """SELECT r.id, r.region_code, g.path, g.level, r.period, r.dims, r.vals,
                  r.version, r.publisher_id, r.submission_id, r.updated_at, r.seq, r.status
           FROM records r JOIN regions g ON g.code = r.region_code
           WHERE r.dataset_id = $1 AND r.status = 'current'""", dataset_id)
    return [dict(r) for r in rows]


async def published_state(conn: asyncpg.Connection, record_ids: list[uuid.UUID]
                          ) -> dict[uuid.UUID, dict]:
    rows = await conn.fetch("SELECT record_id, hidden FROM privacy_published "
                            "WHERE record_id = ANY($1::uuid[])", record_ids)
    return {r["record_id"]: r["hidden"] for r in rows}


async def save_published_state(conn: asyncpg.Connection, states: dict[uuid.UUID, dict]) -> None:
    await conn.executemany(
        """INSERT INTO privacy_published (record_id, hidden) VALUES ($1, $2)
           ON CONFLICT (record_id) DO UPDATE SET hidden = excluded.hidden""",
        list(states.items()))


async def hidden_published(conn: asyncpg.Connection, dataset_id: int) -> list[dict]:
    """Current records sent on the bus with something hidden (to send them again in full
    once the dataset is no longer sensitive)."""
    rows = await conn.fetch(
        """SELECT r.id, r.region_code, r.period, r.dims, r.vals, r.version, r.publisher_id,
                  r.submission_id, r.updated_at, r.seq, r.status
           FROM privacy_published p JOIN records r ON r.id = p.record_id
           WHERE r.dataset_id = $1 AND p.hidden <> '{}'::jsonb""", dataset_id)
    return [dict(r) for r in rows]


async def forget_published(conn: asyncpg.Connection, record_ids: list[uuid.UUID]) -> None:
    await conn.execute("DELETE FROM privacy_published WHERE record_id = ANY($1::uuid[])",
                       record_ids)
