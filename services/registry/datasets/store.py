"""SQL for datasets. Functions never commit.

The columns come from the table's declaration (tables.Dataset) and the written ones from the
API models (datasets.models.WRITABLE / UPDATABLE): a field added to the models and the
table is read, written and updated here without an edit.
"""

from __future__ import annotations

import asyncpg

from services.registry.datasets.models import UPDATABLE, WRITABLE
from services.registry.tables import Dataset
from shared.sql import Where

DATASET_COLUMNS = ", ".join(Dataset.__table__.columns.keys())


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
    """``d`` keyed by column (the models' wire names); a column left out takes its default."""
    columns = [c for c in WRITABLE if c in d]
    values = Where()
    placeholders = ", ".join(values.param(d[c]) for c in columns)
    row = await conn.fetchrow(
        f"""INSERT INTO datasets ({", ".join(columns)}) VALUES ({placeholders})
            RETURNING {DATASET_COLUMNS}""", *values.args)
    return dict(row)


async def update_dataset(conn: asyncpg.Connection, slug: str, changes: dict) -> dict | None:
    """A new version with ``changes`` (keyed by column, any of UPDATABLE)."""
    where = Where()
    sets = [f"{c} = {where.param(changes[c])}" for c in UPDATABLE if c in changes]
    if not sets:
        return await get_dataset(conn, slug)
    where.add("slug = {}", slug)
    row = await conn.fetchrow(
        f"""UPDATE datasets SET {", ".join(sets)}, version = version + 1, updated_at = now()
            {where.sql} RETURNING {DATASET_COLUMNS}""", *where.args)
    return dict(row) if row else None
