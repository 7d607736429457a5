"""SQL for signed receipts (issue 19); never commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import AsyncIterator

import asyncpg


async def stored(conn: asyncpg.Connection, submission_id: uuid.UUID,
                 final_at: datetime) -> bytes | None:
    """The receipt issued for this state of the submission (None: none yet, or the
    submission moved on since, e.g. a dead-lettered chunk replayed and applied)."""
    return await conn.fetchval(
        "SELECT body FROM receipts WHERE submission_id = $1 AND final_at = $2",
        submission_id, final_at)


async def save(conn: asyncpg.Connection, submission_id: uuid.UUID, key_id: str,
               final_at: datetime, body: bytes) -> bytes:
    """The first receipt issued for a state wins (two replicas building one at once); a
    newer state replaces an older one."""
    await conn.execute(
        """INSERT INTO receipts (submission_id, key_id, final_at, body) VALUES ($1, $2, $3, $4)
           ON CONFLICT (submission_id) DO UPDATE SET key_id = excluded.key_id,
             final_at = excluded.final_at, body = excluded.body, issued_at = now()
           WHERE receipts.final_at < excluded.final_at""",
        submission_id, key_id, final_at, body)
    return await stored(conn, submission_id, final_at)


async def submission(conn: asyncpg.Connection, submission_id: uuid.UUID) -> dict | None:
    row = await conn.fetchrow(
        """SELECT id, publisher_id, key_id, dataset, source, filename, rows, chunks, status,
                  created_at, updated_at FROM submissions WHERE id = $1""", submission_id)
    return dict(row) if row else None


async def chunks(conn: asyncpg.Connection, submission_id: uuid.UUID) -> list[dict]:
    rows = await conn.fetch(
        """SELECT chunk, row_offset, rows, processed_at, error, outcomes::text AS outcomes,
                  created, updated, unchanged, conflicts, rejected
           FROM submission_chunks WHERE submission_id = $1 ORDER BY chunk""", submission_id)
    return [dict(r) for r in rows]


async def normalised_rows(conn: asyncpg.Connection, submission_id: uuid.UUID
                          ) -> AsyncIterator[dict]:
    """The rows as ingest stored them, in order (call inside a transaction)."""
    async for record in conn.cursor(
            "SELECT row FROM submission_rows WHERE submission_id = $1 ORDER BY idx",
            submission_id, prefetch=2000):
        yield record["row"]
