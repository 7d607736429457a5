"""SQL for signed receipts; never commits."""

from __future__ import annotations

import json
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
               final_at: datetime, body: bytes, jwk: dict) -> bytes:
    """The first receipt issued for a state wins (two replicas building one at once); a
    newer state replaces an older one. The signing key's public half is kept beside it."""
    await remember_keys(conn, [jwk])
    await conn.execute(
        """INSERT INTO receipts (submission_id, key_id, final_at, body) VALUES ($1, $2, $3, $4)
           ON CONFLICT (submission_id) DO UPDATE SET key_id = excluded.key_id,
             final_at = excluded.final_at, body = excluded.body, issued_at = now()
           WHERE receipts.final_at < excluded.final_at""",
        submission_id, key_id, final_at, body)
    return await stored(conn, submission_id, final_at)


async def remember_keys(conn: asyncpg.Connection, jwks: list[dict]) -> None:
    await conn.execute(
        """INSERT INTO receipt_keys (kid, jwk)
           SELECT k ->> 'kid', k FROM jsonb_array_elements($1::text::jsonb) k
           ON CONFLICT (kid) DO NOTHING""", json.dumps(jwks))


async def remember_signing_keys(conn: asyncpg.Connection, jwks: list[dict]) -> None:
    """Of ``jwks`` (the keys ingest's files know), keep those that signed a stored receipt
    and are not kept yet (receipts issued before keys were kept with them)."""
    missing = [k for k in jwks if not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM receipt_keys WHERE kid = $1)", k["kid"])
        and await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM receipts WHERE key_id = $1)", k["kid"])]
    if missing:
        await remember_keys(conn, missing)


async def kept_keys(conn: asyncpg.Connection) -> list[dict]:
    return [json.loads(r["jwk"]) for r in await conn.fetch(
        "SELECT jwk::text AS jwk FROM receipt_keys ORDER BY first_signed_at, kid")]


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
