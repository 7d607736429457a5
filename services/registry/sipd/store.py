"""SQL for SIPD indicators and pushes. Functions never commit (the caller owns the
transaction)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal

import asyncpg

INDICATOR = ("i.id, i.kodeindikator, d.slug AS dataset, i.measure, i.dims, i.note, "
             "i.created_by, i.created_at")


async def add_indicator(conn: asyncpg.Connection, *, kodeindikator: str, dataset_id: int,
                        measure: str, dims: dict, note: str | None, by: str) -> int | None:
    return await conn.fetchval(
        """INSERT INTO sipd_indicators (kodeindikator, dataset_id, measure, dims, note,
                                        created_by)
           VALUES ($1, $2, $3, $4::text::jsonb, $5, $6)
           ON CONFLICT (kodeindikator) DO NOTHING RETURNING id""",
        kodeindikator, dataset_id, measure, json.dumps(dims), note, by)


async def indicators(conn: asyncpg.Connection) -> list[dict]:
    rows = await conn.fetch(f"SELECT {INDICATOR} FROM sipd_indicators i "
                            "JOIN datasets d ON d.id = i.dataset_id ORDER BY i.kodeindikator")
    return [dict(r) for r in rows]


async def latest_pushes(conn: asyncpg.Connection) -> dict[tuple[int, str], dict]:
    """The newest push of each (indicator, year)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (indicator_id, tahun) id, indicator_id, tahun, value, status,
                  attempts, response, sent_at, created_at
           FROM sipd_pushes ORDER BY indicator_id, tahun, created_at DESC, id""")
    return {(r["indicator_id"], r["tahun"]): dict(r) for r in rows}


async def queue_push(conn: asyncpg.Connection, indicator_id: int, tahun: str,
                     value: Decimal) -> bool:
    """A push of ``value`` unless the newest push of this indicator and year already has it;
    an older push still waiting is superseded (SIPD gets the newest value only)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('sipd'), $1::int)", indicator_id)
    newest = await conn.fetchrow(
        """SELECT value FROM sipd_pushes WHERE indicator_id = $1 AND tahun = $2
           ORDER BY created_at DESC, id LIMIT 1""", indicator_id, tahun)
    if newest is not None and newest["value"] == value:
        return False
    await conn.execute(
        """UPDATE sipd_pushes SET status = 'superseded'
           WHERE indicator_id = $1 AND tahun = $2 AND status = 'pending'""", indicator_id, tahun)
    await conn.execute(
        "INSERT INTO sipd_pushes (id, indicator_id, tahun, value) VALUES ($1, $2, $3, $4)",
        uuid.uuid4(), indicator_id, tahun, value)
    return True


async def claim(conn: asyncpg.Connection, now: datetime, limit: int) -> list[dict]:
    rows = await conn.fetch(
        """SELECT p.id, p.tahun, p.value, p.attempts, i.kodeindikator
           FROM sipd_pushes p JOIN sipd_indicators i ON i.id = p.indicator_id
           WHERE p.status = 'pending' AND p.next_attempt_at <= $1
           ORDER BY p.next_attempt_at LIMIT $2 FOR UPDATE OF p SKIP LOCKED""", now, limit)
    return [dict(r) for r in rows]


async def mark(conn: asyncpg.Connection, push_id: uuid.UUID, *, status: str,
               response: str | None, next_attempt_at: datetime | None,
               sent_at: datetime | None) -> None:
    await conn.execute(
        """UPDATE sipd_pushes SET status = $2, attempts = attempts + 1, response = $3,
                  next_attempt_at = coalesce($4, next_attempt_at), sent_at = $5
           WHERE id = $1""", push_id, status, response, next_attempt_at, sent_at)


async def pushes_by_status(conn: asyncpg.Connection) -> dict[str, int]:
    """How many pushes are in each state (a few per indicator and year: small)."""
    rows = await conn.fetch("SELECT status, count(*) AS n FROM sipd_pushes GROUP BY status")
    return {r["status"]: r["n"] for r in rows}
