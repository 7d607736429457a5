"""SQL for timeliness: schedules, submissions per unit, reminders and their deliveries.
Never commits: the caller owns the transaction."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg

from shared.sql import Where, valid_on


async def units(conn: asyncpg.Connection, *, dataset_id: int, period: str,
                levels: list[str], root: str) -> list[dict]:
    """Every expected unit (region at the dataset's levels, valid in the period, under
    ``root``) with its kecamatan, its path and when its first current record for the period
    arrived."""
    rows = await conn.fetch(
        f"""SELECT g.code, g.name, g.level, g.path, coalesce(g.path[2], g.code) AS kecamatan,
                  min(r.created_at) AS submitted_at
           FROM regions g
           LEFT JOIN records r ON r.dataset_id = $1 AND r.period = $2
                AND r.region_code = g.code AND r.status = 'current'
           WHERE g.path @> ARRAY[$4::text] AND g.level = ANY($3::text[])
             AND {valid_on("g", "period_end($2)")}
           GROUP BY g.code, g.name, g.level, g.path
           ORDER BY g.code""",
        dataset_id, period, levels, root)
    return [{**dict(r), "path": list(r["path"])} for r in rows]


async def publishers_with_contacts(conn: asyncpg.Connection) -> list[dict]:
    rows = await conn.fetch(
        """SELECT p.id, p.name, p.kind, p.region_scope, p.datasets, c.email
           FROM publishers p LEFT JOIN publisher_contacts c ON c.publisher_id = p.id
           ORDER BY p.id""")
    return [dict(r) for r in rows]


async def set_contact(conn: asyncpg.Connection, publisher_id: str, email: str) -> None:
    await conn.execute(
        """INSERT INTO publisher_contacts (publisher_id, email) VALUES ($1, $2)
           ON CONFLICT (publisher_id) DO UPDATE SET email = excluded.email,
             updated_at = now()""", publisher_id, email)


async def insert_reminder(conn: asyncpg.Connection, *, id: uuid.UUID, publisher_id: str,
                          dataset_id: int, period: str, stage: str, due_at: datetime,
                          payload: dict) -> bool:
    """True when this (publisher, dataset, period, stage) had no reminder yet."""
    return bool(await conn.fetchval(
        """INSERT INTO reminders (id, publisher_id, dataset_id, period, stage, due_at, payload)
           VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb)
           ON CONFLICT (publisher_id, dataset_id, period, stage) DO NOTHING RETURNING true""",
        id, publisher_id, dataset_id, period, stage, due_at, json.dumps(payload)))


async def insert_delivery(conn: asyncpg.Connection, reminder_id: uuid.UUID, channel: str,
                          target: str, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO reminder_deliveries (id, reminder_id, channel, target, next_attempt_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        uuid.uuid4(), reminder_id, channel, target, now)


async def claim_deliveries(conn: asyncpg.Connection, now: datetime, limit: int) -> list[dict]:
    rows = await conn.fetch(
        """SELECT d.id, d.reminder_id, d.channel, d.target, d.attempts, r.payload::text AS payload
           FROM reminder_deliveries d JOIN reminders r ON r.id = d.reminder_id
           WHERE d.status = 'pending' AND d.next_attempt_at <= $1
           ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED""", now, limit)
    return [{**dict(r), "payload": json.loads(r["payload"])} for r in rows]


async def mark_delivery(conn: asyncpg.Connection, delivery_id: uuid.UUID, *, status: str,
                        error: str | None, next_attempt_at: datetime | None,
                        sent_at: datetime | None) -> None:
    await conn.execute(
        """UPDATE reminder_deliveries SET status = $2, attempts = attempts + 1, last_error = $3,
                  next_attempt_at = coalesce($4, next_attempt_at), sent_at = $5
           WHERE id = $1""", delivery_id, status, error, next_attempt_at, sent_at)


async def reminder_log(conn: asyncpg.Connection, *, publisher_id: str | None,
                       after: tuple | None, limit: int) -> list[dict]:
    """Reminders newest first with their deliveries; ``after`` = (created_at, id) of the
    previous page's last row."""
    where = Where()
    if publisher_id is not None:
        where.add("r.publisher_id = {}", publisher_id)
    if after:
        where.add("(r.created_at, r.id) < ({}::timestamptz, {}::uuid)", *after)
    rows = await conn.fetch(
        f"""SELECT r.id, r.publisher_id, d.slug AS dataset, r.period, r.stage, r.due_at,
                   r.created_at,
                   coalesce(json_agg(json_build_object(
                       'id', x.id, 'channel', x.channel, 'target', x.target,
                       'status', x.status, 'attempts', x.attempts, 'last_error', x.last_error,
                       'sent_at', x.sent_at) ORDER BY x.channel, x.target)
                     FILTER (WHERE x.id IS NOT NULL), '[]')::text AS deliveries
            FROM reminders r JOIN datasets d ON d.id = r.dataset_id
            LEFT JOIN reminder_deliveries x ON x.reminder_id = r.id
            {where.sql}
            GROUP BY r.id, d.slug ORDER BY r.created_at DESC, r.id DESC
            LIMIT {where.param(limit)}""", *where.args)
    return [{**dict(r), "deliveries": json.loads(r["deliveries"])} for r in rows]
