"""SQL for datasets. Functions never commit.

The columns come from the table's declaration (datasets/tables.py Dataset) and the written ones from the
API models (datasets.models.WRITABLE / UPDATABLE): a field added to the models and the
table is read, written and updated here without an edit.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.registry.datasets.models import UPDATABLE, WRITABLE
from services.registry.datasets.tables import Dataset
from shared.contracts import DatasetSchemaV1
from shared.sql import Where, valid_on

DATASET_COLUMNS = ", ".join(Dataset.__table__.columns.keys())


def _dataset(row: asyncpg.Record) -> dict:
    """A dataset row with its schema typed (DatasetSchemaV1): once, where it is read."""
    d = dict(row)
    d["schema"] = DatasetSchemaV1.model_validate(d["schema"])
    return d


def _stored(value):
    return value.model_dump(mode="json") if isinstance(value, DatasetSchemaV1) else value


async def get_dataset(conn: asyncpg.Connection, slug: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT {DATASET_COLUMNS} FROM datasets WHERE slug = $1", slug)
    return _dataset(row) if row else None


async def list_datasets(conn: asyncpg.Connection, *, retracted: bool | None = False
                        ) -> list[dict]:
    """Datasets in force (``retracted=False``, the catalogue), withdrawn ones (``True``) or
    all (``None``, for readers that need to hear of a withdrawal)."""
    rows = await conn.fetch(
        f"""SELECT {DATASET_COLUMNS} FROM datasets
            WHERE $1::boolean IS NULL OR (retracted_at IS NOT NULL) = $1 ORDER BY slug""",
        retracted)
    return [_dataset(r) for r in rows]


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
    return _dataset(row)


async def insert_dataset(conn: asyncpg.Connection, d: dict) -> dict:
    """``d`` keyed by column (the models' wire names); a column left out takes its default."""
    columns = [c for c in WRITABLE if c in d]
    values = Where()
    placeholders = ", ".join(values.param(_stored(d[c])) for c in columns)
    row = await conn.fetchrow(
        f"""INSERT INTO datasets ({", ".join(columns)}) VALUES ({placeholders})
            RETURNING {DATASET_COLUMNS}""", *values.args)
    return _dataset(row)


async def update_dataset(conn: asyncpg.Connection, slug: str, changes: dict) -> dict | None:
    """A new version with ``changes`` (keyed by column, any of UPDATABLE)."""
    where = Where()
    sets = [f"{c} = {where.param(_stored(changes[c]))}" for c in UPDATABLE if c in changes]
    if not sets:
        return await get_dataset(conn, slug)
    where.add("slug = {}", slug)
    row = await conn.fetchrow(
        f"""UPDATE datasets SET {", ".join(sets)}, version = version + 1, updated_at = now()
            {where.sql} RETURNING {DATASET_COLUMNS}""", *where.args)
    return _dataset(row) if row else None


# The dataset's schedule (grace days) and the newest data: what up-to-dateness is made of.
async def grace_days(conn: asyncpg.Connection, dataset_id: int) -> int | None:
    return await conn.fetchval(
        "SELECT grace_days FROM dataset_schedules WHERE dataset_id = $1", dataset_id)


async def all_grace_days(conn: asyncpg.Connection) -> dict[int, int]:
    rows = await conn.fetch("SELECT dataset_id, grace_days FROM dataset_schedules")
    return {r["dataset_id"]: r["grace_days"] for r in rows}


async def set_grace_days(conn: asyncpg.Connection, dataset_id: int, days: int,
                         by: str) -> None:
    await conn.execute(
        """INSERT INTO dataset_schedules (dataset_id, grace_days, updated_by)
           VALUES ($1, $2, $3)
           ON CONFLICT (dataset_id) DO UPDATE SET grace_days = excluded.grace_days,
             updated_by = excluded.updated_by, updated_at = now()""", dataset_id, days, by)


# The newest period comes from the (dataset_id, period, region_code) index, read backwards;
# "last updated" is the newest change within that period (same index), so neither read scans a
# dataset's whole history on every catalogue answer.
_LATEST = """
    SELECT d.id AS dataset_id, p.period,
           (SELECT max(r.updated_at) FROM records r
            WHERE r.dataset_id = d.id AND r.period = p.period AND r.status = 'current') AS at
    FROM datasets d
    CROSS JOIN LATERAL (SELECT r.period FROM records r
                        WHERE r.dataset_id = d.id AND r.status = 'current'
                        ORDER BY r.period DESC LIMIT 1) p
    WHERE $1::bigint IS NULL OR d.id = $1"""


async def latest_data(conn: asyncpg.Connection, dataset_id: int
                      ) -> tuple[str | None, datetime | None]:
    """(newest period with current records, when that period's records last changed)."""
    row = await conn.fetchrow(_LATEST, dataset_id)
    return (row["period"], row["at"]) if row else (None, None)


async def has_records(conn: asyncpg.Connection, dataset_id: int) -> bool:
    """Whether the dataset holds any record, whatever its status (one index probe): the
    demo seed writes only into an empty one; a frequency changes only while it is empty."""
    return await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM records WHERE dataset_id = $1)", dataset_id)


async def latest_data_all(conn: asyncpg.Connection) -> dict[int, tuple[str, datetime]]:
    rows = await conn.fetch(_LATEST, None)
    return {r["dataset_id"]: (r["period"], r["at"]) for r in rows}


async def coverage(conn: asyncpg.Connection, wanted: list[tuple[int, str, list[str]]]
                   ) -> dict[int, tuple[int, int]]:
    """Per (dataset, period, unit levels): (units with current records for the period, units
    valid in it). One statement for the catalogue; each count reads one period of one
    dataset (records_dataset_period) and the small region table."""
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"""SELECT w.id,
                   (SELECT count(DISTINCT r.region_code) FROM records r
                    JOIN regions g ON g.code = r.region_code
                    WHERE r.dataset_id = w.id AND r.period = w.period AND r.status = 'current'
                      AND g.level = ANY(string_to_array(w.levels, ','))
                      AND {valid_on("g", "period_end(w.period)")}) AS reported,
                   (SELECT count(*) FROM regions g
                    WHERE g.level = ANY(string_to_array(w.levels, ','))
                      AND {valid_on("g", "period_end(w.period)")}) AS expected
            FROM unnest($1::bigint[], $2::text[], $3::text[]) AS w(id, period, levels)""",
        [w[0] for w in wanted], [w[1] for w in wanted], [",".join(w[2]) for w in wanted])
    return {r["id"]: (r["reported"], r["expected"]) for r in rows}
