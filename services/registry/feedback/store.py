"""SQL for citizens' reports on figures. Functions never commit (the caller owns the
transaction)."""

from __future__ import annotations

import json
import uuid

import asyncpg

COLUMNS = ("f.id, d.slug AS dataset, f.region_code, f.period, f.dims, f.measure, f.message, "
           "f.contact, f.status, f.answer, f.answered_by, f.answered_at, f.contact_deleted_at, "
           "f.created_at")


async def insert(conn: asyncpg.Connection, *, dataset_id: int, region_code: str, period: str,
                 dims: dict, measure: str | None, message: str, contact: str | None) -> dict:
    report_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO figure_reports (id, dataset_id, region_code, period, dims, measure,
                                       message, contact)
           VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8)""",
        report_id, dataset_id, region_code, period, json.dumps(dims), measure, message, contact)
    return await get(conn, report_id)


async def get(conn: asyncpg.Connection, report_id: uuid.UUID, *, lock: bool = False
              ) -> dict | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM figure_reports f JOIN datasets d ON d.id = f.dataset_id "
        "WHERE f.id = $1" + (" FOR UPDATE OF f" if lock else ""), report_id)
    return dict(row) if row else None


async def listed(conn: asyncpg.Connection, *, dataset_id: int | None, status: str | None,
                 limit: int) -> list[dict]:
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM figure_reports f JOIN datasets d ON d.id = f.dataset_id
            WHERE ($1::bigint IS NULL OR f.dataset_id = $1)
              AND ($2::text IS NULL OR f.status = $2)
            ORDER BY f.created_at DESC, f.id LIMIT $3""", dataset_id, status, limit)
    return [dict(r) for r in rows]


async def answer(conn: asyncpg.Connection, report_id: uuid.UUID, text: str, by: str) -> None:
    await conn.execute(
        "UPDATE figure_reports SET status = 'answered', answer = $2, answered_by = $3, "
        "answered_at = now() WHERE id = $1", report_id, text, by)


async def forget_contacts(conn: asyncpg.Connection, days: int) -> int:
    """Delete the contact of every report answered more than ``days`` days ago."""
    done = await conn.execute(
        """UPDATE figure_reports SET contact = NULL, contact_deleted_at = now()
           WHERE contact IS NOT NULL AND status = 'answered'
             AND answered_at < now() - make_interval(days => $1)""", days)
    return int(done.split()[-1])
