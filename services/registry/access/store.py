"""SQL for publishers and API keys. Functions never commit."""

from __future__ import annotations

import asyncpg

from shared.sql import Where


async def upsert_publisher(conn: asyncpg.Connection, *, id: str, name: str, kind: str,
                           region_scope: str, datasets: list[str]) -> None:
    await conn.execute(
        """INSERT INTO publishers (id, name, kind, region_scope, datasets)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
             region_scope = excluded.region_scope, datasets = excluded.datasets""",
        id, name, kind, region_scope, datasets)


async def get_publisher(conn: asyncpg.Connection, publisher_id: str) -> dict | None:
    row = await conn.fetchrow("SELECT * FROM publishers WHERE id = $1", publisher_id)
    return dict(row) if row else None


async def list_publishers(conn: asyncpg.Connection) -> list[dict]:
    return [dict(r) for r in await conn.fetch("SELECT * FROM publishers ORDER BY id")]


async def insert_publisher(conn: asyncpg.Connection, p: dict) -> dict | None:
    row = await conn.fetchrow(
        """INSERT INTO publishers (id, name, kind, region_scope, datasets)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING
           RETURNING id, name, kind, region_scope, datasets, created_at""",
        p["id"], p["name"], p["kind"], p["region_scope"], p["datasets"])
    return dict(row) if row else None


async def update_publisher(conn: asyncpg.Connection, publisher_id: str, changes: dict
                           ) -> dict | None:
    where = Where()
    sets = [f"{key} = {where.param(changes[key])}"
            for key in ("name", "region_scope", "datasets") if key in changes]
    if not sets:
        return await get_publisher(conn, publisher_id)
    where.add("id = {}", publisher_id)
    row = await conn.fetchrow(
        f"UPDATE publishers SET {', '.join(sets)} {where.sql} "
        "RETURNING id, name, kind, region_scope, datasets, created_at", *where.args)
    return dict(row) if row else None


async def insert_key(conn: asyncpg.Connection, *, id: str, publisher_id: str, role: str,
                     key_hash: str, label: str, expires_at=None) -> dict:
    row = await conn.fetchrow(
        """INSERT INTO api_keys (id, publisher_id, role, key_hash, label, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, publisher_id, role, label, created_at, expires_at, revoked_at""",
        id, publisher_id, role, key_hash, label, expires_at)
    return dict(row)


async def key_exists(conn: asyncpg.Connection, key_hash: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM api_keys WHERE key_hash = $1", key_hash))


async def find_key(conn: asyncpg.Connection, key_hash: str) -> dict | None:
    row = await conn.fetchrow(
        """SELECT k.id AS key_id, k.role, k.expires_at, k.revoked_at, p.id AS publisher_id,
                  p.name AS publisher_name, p.region_scope, p.datasets
           FROM api_keys k JOIN publishers p ON p.id = k.publisher_id
           WHERE k.key_hash = $1""", key_hash)
    return dict(row) if row else None


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> dict | None:
    row = await conn.fetchrow(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 "
        "RETURNING id, publisher_id, role, label, created_at, expires_at, revoked_at", key_id)
    return dict(row) if row else None


async def keys_of(conn: asyncpg.Connection, publisher_id: str | None) -> list[dict]:
    rows = await conn.fetch(
        """SELECT id, publisher_id, role, label, created_at, expires_at, revoked_at
           FROM api_keys WHERE ($1::text IS NULL OR publisher_id = $1)
           ORDER BY created_at, id""", publisher_id)
    return [dict(r) for r in rows]


async def get_key(conn: asyncpg.Connection, key_id: str) -> dict | None:
    row = await conn.fetchrow(
        "SELECT id, publisher_id, role, label, created_at, expires_at, revoked_at "
        "FROM api_keys WHERE id = $1", key_id)
    return dict(row) if row else None
