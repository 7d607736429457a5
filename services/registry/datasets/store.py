"""SQL for datasets. Functions never commit."""

from __future__ import annotations

import asyncpg


DATASET_COLUMNS = ("id, slug, title, description, frequency, topic, tags, license, metadata, "
                   "schema, authoritative, version, created_at, updated_at, retracted_at, "
                   "retracted_by, retraction_reason")


async def get_dataset(conn: asyncpg.Connection, slug: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT {DATASET_COLUMNS} FROM datasets WHERE slug = $1", slug)
    return dict(row) if row else None


async def list_datasets(conn: asyncpg.Connection, *, retracted: bool | None = False
                        ) -> list[dict]:
    """Datasets in force (``retracted=False``, the catalogue), withdrawn ones (``True``) or
    all (``None``, for readers that need to hear of a withdrawal)."""
    rows = await conn.fetch(
        f"""SELECT {DATASET_COLUMNS} FROM datasets
            WHERE $1::boolean IS NULL OR (retracted_at IS NOT NULL) = $1 ORDER BY slug""",
        retracted)
    return [dict(r) for r in rows]


async def existing_dataset_slugs(conn: asyncpg.Connection, slugs: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT slug FROM datasets WHERE slug = ANY($1::text[])", slugs)
    return {r["slug"] for r in rows}


async def set_dataset_retraction(conn: asyncpg.Connection, slug: str, *, by: str | None,
                                 reason: str | None) -> dict:
    """Retract (``reason`` given) or restore (``reason`` None) a dataset: a new version."""
    row = await conn.fetchrow(
        f"""UPDATE datasets SET retracted_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() END,
                   retracted_by = $2, retraction_reason = $3, version = version + 1,
                   updated_at = now()
            WHERE slug = $1 RETURNING {DATASET_COLUMNS}""", slug, by, reason)
    return dict(row)


async def insert_dataset(conn: asyncpg.Connection, d: dict) -> dict:
    row = await conn.fetchrow(
        f"""INSERT INTO datasets (slug, title, description, frequency, topic, tags, license,
                                  metadata, schema, authoritative)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            RETURNING {DATASET_COLUMNS}""",
        d["slug"], d["title"], d.get("description", ""), d["frequency"], d.get("topic"),
        d.get("tags", []), d.get("license", "CC-BY-4.0"), d.get("metadata", {}), d["schema"],
        d.get("authoritative", []))
    return dict(row)


async def update_dataset(conn: asyncpg.Connection, slug: str, changes: dict) -> dict | None:
    allowed = ("title", "description", "frequency", "topic", "tags", "license", "metadata",
               "schema", "authoritative")
    sets, args = [], [slug]
    for key in allowed:
        if key in changes:
            args.append(changes[key])
            sets.append(f"{key} = ${len(args)}")
    if not sets:
        return await get_dataset(conn, slug)
    row = await conn.fetchrow(
        f"UPDATE datasets SET {', '.join(sets)}, version = version + 1, updated_at = now() "
        f"WHERE slug = $1 RETURNING {DATASET_COLUMNS}", *args)
    return dict(row) if row else None
