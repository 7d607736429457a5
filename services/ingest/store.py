"""SQL for the ingest schema. Functions take a connection and never commit."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import asyncpg

from shared.contracts import SubmissionChunkProcessedV1, SubmissionChunkV1
from shared.outbox import channel

SCHEMA = "ingest"

# "processing" as soon as one chunk left the outbox, even before the registry answered.
_STATUS = """CASE WHEN s.status = 'received' AND EXISTS (
                 SELECT 1 FROM submission_chunks c JOIN outbox o ON o.event_id = c.event_id
                 WHERE c.submission_id = s.id AND o.sent_at IS NOT NULL)
             THEN 'processing' ELSE s.status END"""


async def insert_submission(conn: asyncpg.Connection, *, id: uuid.UUID, publisher_id: str,
                            key_id: str, dataset: str, source: str, filename: str | None,
                            idempotency_key: str | None, request_id: str | None) -> bool:
    """False when this publisher already used ``idempotency_key`` (waits for a concurrent
    first use to commit, so the caller then sees it)."""
    inserted = await conn.fetchval(
        """INSERT INTO submissions (id, publisher_id, key_id, dataset, source, filename,
                                    idempotency_key, request_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (publisher_id, idempotency_key) WHERE idempotency_key IS NOT NULL
           DO NOTHING RETURNING true""",
        id, publisher_id, key_id, dataset, source, filename, idempotency_key, request_id)
    return bool(inserted)


async def submission_by_key(conn: asyncpg.Connection, publisher_id: str, key: str
                            ) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, content_hash, dataset FROM submissions "
        "WHERE publisher_id = $1 AND idempotency_key = $2", publisher_id, key)


async def copy_rows(conn: asyncpg.Connection, submission_id: uuid.UUID,
                    batch: list[tuple[int, int, str]]) -> None:
    """COPY a batch into a temporary table, then one INSERT into submission_rows."""
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS rows_in (idx int, chunk int, row text) "
        "ON COMMIT DELETE ROWS")
    await conn.copy_records_to_table("rows_in", records=batch, columns=["idx", "chunk", "row"])
    await conn.execute(
        "INSERT INTO submission_rows (submission_id, idx, chunk, row) "
        "SELECT $1, idx, chunk, row::jsonb FROM rows_in", submission_id)
    await conn.execute("TRUNCATE rows_in")


async def mark_duplicates(conn: asyncpg.Connection, submission_id: uuid.UUID,
                          duplicates: str | None) -> None:
    """Give each row whose key repeats the lines of the others ("_duplicate_of");
    ``duplicates`` is a JSON object {"row index": [lines]}."""
    if not duplicates:
        return
    await conn.execute(
        """UPDATE submission_rows r SET row = r.row || jsonb_build_object('_duplicate_of', d.value)
           FROM jsonb_each($2::text::jsonb) d
           WHERE r.submission_id = $1 AND r.idx = d.key::int""",
        submission_id, duplicates)


# The one definition of a chunk's event: shared.contracts.Envelope around a SubmissionChunkV1,
# exactly as shared.outbox.add would write it, built in SQL from the stored submission and
# chunk. The rows are not copied into the outbox: they are kept once, in submission_rows, and
# joined in when the relay sends the event (``_WITH_ROWS``). ``sends`` is a query of
# (submission_id, chunk, event_id): the first send of a submission's chunks and the
# reconciler's re-send both go through here, so nothing the first carries can be missing from
# the second.
def _insert_chunk_events(sends: str) -> str:
    return f"""
        INSERT INTO outbox (event_id, subject, payload)
        SELECT x.event_id, '{SubmissionChunkV1.subject}', jsonb_build_object(
            'event_id', x.event_id, 'type', '{SubmissionChunkV1.subject}',
            'occurred_at', now(), 'request_id', s.request_id,
            'data', jsonb_build_object(
                'submission_id', s.id, 'dataset', s.dataset, 'publisher_id', s.publisher_id,
                'chunk', c.chunk, 'chunks', s.chunks, 'row_offset', c.row_offset,
                'locale', s.locale, 'sheet', s.sheet))
        FROM ({sends}) x
        JOIN submissions s ON s.id = x.submission_id
        JOIN submission_chunks c ON c.submission_id = x.submission_id AND c.chunk = x.chunk
        ORDER BY c.submission_id, c.chunk
        RETURNING event_id"""


# An outbox row as the event it sends (``id``, ``payload`` as text): a chunk's event gets its
# rows from submission_rows (one range of the primary key) in the order of the file; any
# other event is sent as stored. Rows written by a release that still copied them into the
# outbox are sent with the same rows, read from the same place.
_WITH_ROWS = f"""
    SELECT o.id, CASE WHEN c.chunk IS NULL THEN o.payload
                      ELSE jsonb_set(o.payload, '{{data,rows}}', g.rows) END::text AS payload
    FROM outbox o
    LEFT JOIN submission_chunks c  -- by its place: a re-sent chunk has a new event id
           ON o.subject = '{SubmissionChunkV1.subject}'
          AND c.submission_id = (o.payload #>> '{{data,submission_id}}')::uuid
          AND c.chunk = (o.payload #>> '{{data,chunk}}')::int
    LEFT JOIN LATERAL (
        SELECT coalesce(jsonb_agg(r.row ORDER BY r.idx), '[]') AS rows FROM submission_rows r
        WHERE r.submission_id = c.submission_id
          AND r.idx >= c.row_offset AND r.idx < c.row_offset + c.rows) g ON true"""


async def chunk_event(conn: asyncpg.Connection, event_id: uuid.UUID) -> str | None:
    """The event an outbox row sends, as JSON text, rows included."""
    return await conn.fetchval(
        f"SELECT payload FROM ({_WITH_ROWS} WHERE o.event_id = $1) e", event_id)


async def finish_submission(conn: asyncpg.Connection, *, id: uuid.UUID, publisher_id: str,
                            dataset: str, rows: int, chunks: int, content_hash: str,
                            warnings: list[dict], request_id: str | None,
                            locale: str = "id", sheet: str | None = None) -> None:
    """Record the totals and how the rows are read, then one chunk row and one outbox event
    per chunk, set-based."""
    await conn.execute(
        "UPDATE submissions SET rows = $2, chunks = $3, content_hash = $4, "
        "warnings = $5::text::jsonb, locale = $6, sheet = $7, updated_at = now() "
        "WHERE id = $1",
        id, rows, chunks, content_hash, json.dumps(warnings, ensure_ascii=False), locale, sheet)
    await conn.execute(
        """INSERT INTO submission_chunks (submission_id, chunk, row_offset, rows, event_id)
           SELECT $1, chunk, min(idx), count(*), gen_random_uuid()
           FROM submission_rows WHERE submission_id = $1 GROUP BY chunk""", id)
    await conn.execute(_insert_chunk_events(
        "SELECT submission_id, chunk, event_id FROM submission_chunks WHERE submission_id = $1"),
        id)
    await conn.execute(f"NOTIFY {channel(SCHEMA)}")


async def get_submission(conn: asyncpg.Connection, id: uuid.UUID, stall_after: float = 120.0
                         ) -> asyncpg.Record | None:
    """The submission with its sums; ``stalled_since`` is when it last moved, once nothing has
    moved for ``stall_after`` seconds while it is not final."""
    return await conn.fetchrow(
        f"""SELECT s.id, s.publisher_id, s.dataset, s.source, s.filename, s.rows, s.chunks,
                   s.warnings, s.error, s.created_at, s.updated_at, {_STATUS} AS status,
                   CASE WHEN s.status IN ('received', 'processing')
                         AND s.updated_at < now() - make_interval(secs => $2)
                        THEN s.updated_at END AS stalled_since,
                   coalesce(jsonb_agg(jsonb_build_object('chunk', c.chunk, 'reason', c.error)
                                      ORDER BY c.chunk) FILTER (WHERE c.error IS NOT NULL),
                            '[]') AS chunks_failed,
                   count(c.processed_at) AS chunks_processed,
                   coalesce(sum(c.created), 0) AS created, coalesce(sum(c.updated), 0) AS updated,
                   coalesce(sum(c.unchanged), 0) AS unchanged,
                   coalesce(sum(c.conflicts), 0) AS conflicts,
                   coalesce(sum(c.rejected), 0) AS rejected,
                   coalesce(sum(c.held), 0) AS held
            FROM submissions s LEFT JOIN submission_chunks c ON c.submission_id = s.id
            WHERE s.id = $1 GROUP BY s.id""", id, float(stall_after))


async def rejected_rows(conn: asyncpg.Connection, id: uuid.UUID, limit: int) -> list[dict]:
    rows = await conn.fetch(
        """SELECT r.value AS row FROM submission_chunks c,
                  jsonb_array_elements(c.rejected_rows) r
           WHERE c.submission_id = $1 ORDER BY (r.value->>'index')::int LIMIT $2""", id, limit)
    return [r["row"] for r in rows]


async def list_submissions(conn: asyncpg.Connection, publisher_id: str, limit: int,
                           after: tuple[datetime, uuid.UUID] | None) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT s.id, s.dataset, s.source, s.filename, s.rows, s.chunks, s.created_at,
                   s.updated_at, {_STATUS} AS status
            FROM submissions s
            WHERE s.publisher_id = $1
              AND ($2::timestamptz IS NULL OR (s.created_at, s.id) < ($2, $3::uuid))
            ORDER BY s.created_at DESC, s.id DESC LIMIT $4""",
        publisher_id, after[0] if after else None, after[1] if after else None, limit)


async def record_chunk_result(conn: asyncpg.Connection,
                              event: SubmissionChunkProcessedV1) -> bool:
    """Store one chunk's summary and move the submission's status on; False if unknown.
    A summary after a dead letter (the chunk was replayed and applied) clears its failure."""
    counts = event.counts
    updated = await conn.fetchval(
        """UPDATE submission_chunks SET processed_at = now(), created = $3, updated = $4,
                  unchanged = $5, conflicts = $6, rejected = $7, held = $11,
                  rejected_rows = $8::text::jsonb, error = $9,
                  failed_at = CASE WHEN $9::text IS NULL THEN NULL ELSE now() END,
                  outcomes = $10::text::jsonb  -- per-row outcomes for receipts
           WHERE submission_id = $1 AND chunk = $2 RETURNING true""",
        event.submission_id, event.chunk, counts.created, counts.updated, counts.unchanged,
        counts.conflicts, counts.rejected,
        json.dumps([r.model_dump() for r in event.rejected_rows], ensure_ascii=False),
        event.error, json.dumps(event.outcomes) if event.outcomes else None, counts.held)
    if not updated:
        return False
    await _settle_status(conn, event.submission_id)
    await conn.execute(f"NOTIFY {channel(SCHEMA)}")  # a slot is free: the relay sends the next
    return True


async def record_chunk_dead_letter(conn: asyncpg.Connection, submission_id: uuid.UUID,
                                   chunk: int, reason: str) -> bool:
    """The chunk ended in DEADLETTER: it is final, with its reason; False if unknown or it was
    applied meanwhile (a summary wins over a dead letter)."""
    updated = await conn.fetchval(
        """UPDATE submission_chunks SET failed_at = now(), error = $3
           WHERE submission_id = $1 AND chunk = $2 AND processed_at IS NULL
           RETURNING true""", submission_id, chunk, reason)
    if not updated:
        return False
    await _settle_status(conn, submission_id)
    await conn.execute(f"NOTIFY {channel(SCHEMA)}")
    return True


async def _settle_status(conn: asyncpg.Connection, submission_id: uuid.UUID) -> None:
    """processing until every chunk is final; then completed, partial (some chunks failed) or
    failed (none applied). ``error`` is the first failed chunk's reason (all are listed in
    the status's chunks_failed)."""
    await conn.execute(
        """UPDATE submissions s SET updated_at = now(), status = x.status, error = x.error
           FROM (SELECT CASE WHEN ok + failed < s.chunks THEN 'processing'
                             WHEN failed = 0 THEN 'completed'
                             WHEN ok = 0 THEN 'failed' ELSE 'partial' END AS status,
                        first_error AS error
                 FROM submissions s, LATERAL (
                     SELECT count(*) FILTER (WHERE processed_at IS NOT NULL
                                             AND error IS NULL) AS ok,
                            count(*) FILTER (WHERE error IS NOT NULL) AS failed,
                            (array_agg(error ORDER BY chunk)
                                FILTER (WHERE error IS NOT NULL))[1] AS first_error
                     FROM submission_chunks c WHERE c.submission_id = s.id) n
                 WHERE s.id = $1) x
           WHERE s.id = $1""", submission_id)


async def republish_unprocessed(conn: asyncpg.Connection, older_than: float, limit: int = 100
                                ) -> int:
    """The reconciler: chunks sent more than ``older_than`` seconds ago and still without an
    answer go out again under a new event id (the old one would fall in JetStream's duplicate
    window); the registry applies a chunk once per (submission, chunk). Returns how many."""
    rows = await conn.fetch(
        """WITH due AS (
               SELECT c.submission_id, c.chunk FROM submission_chunks c
               JOIN outbox o ON o.event_id = c.event_id
               WHERE c.processed_at IS NULL AND c.failed_at IS NULL
                 AND o.sent_at < now() - make_interval(secs => $1)
               ORDER BY o.sent_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED),
           moved AS (
               UPDATE submission_chunks c SET event_id = gen_random_uuid(),
                      republished = c.republished + 1
               FROM due WHERE c.submission_id = due.submission_id AND c.chunk = due.chunk
               RETURNING c.submission_id, c.chunk, c.event_id)
           """ + _insert_chunk_events("SELECT * FROM moved"), float(older_than), limit)
    if rows:
        await conn.execute(f"NOTIFY {channel(SCHEMA)}")
    return len(rows)


async def unfinished_ages(conn: asyncpg.Connection, limit: int = 100_000) -> list[float]:
    """Seconds since each unfinished submission last moved (its last chunk summary, or its
    creation): what /metrics uses to count stalled submissions."""
    rows = await conn.fetch(
        """SELECT extract(epoch FROM now() - updated_at)::float8 AS age FROM submissions
           WHERE status IN ('received', 'processing') ORDER BY updated_at LIMIT $1""", limit)
    return [r["age"] for r in rows]


async def pending_rows(conn: asyncpg.Connection, publisher_id: str) -> int:
    """Rows of this publisher accepted but not yet final (no registry summary, no dead letter):
    the backlog that ``INGEST_MAX_PENDING_ROWS`` bounds."""
    return await conn.fetchval(
        """SELECT coalesce(sum(c.rows), 0)::bigint FROM submissions s
           JOIN submission_chunks c ON c.submission_id = s.id
           WHERE s.publisher_id = $1 AND s.status IN ('received', 'processing')
             AND c.processed_at IS NULL AND c.failed_at IS NULL""", publisher_id)


async def claim_in_turn(conn: asyncpg.Connection, limit: int, window: int) -> list:
    """The outbox rows the relay sends now: publishers in turn (each one's oldest first), and
    no publisher with more than ``window`` chunks sent but not yet answered by the registry.
    JetStream then never holds more than ``window`` chunks of one publisher ahead of another's,
    so a village's row waits behind at most that many, not a whole backlog. A chunk's place is
    the slot it would take in its publisher's window, so a publisher with nothing in flight
    goes before one whose window is full and just got a slot back. Replicas take turns (one
    relay claims at a time); rows that are no chunk (none today) go out at once."""
    if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('ingest.outbox'))"):
        return []
    ids = await conn.fetchval(
        """WITH inflight AS (
               SELECT s.publisher_id, count(*) AS n FROM submission_chunks c
               JOIN outbox o ON o.event_id = c.event_id
               JOIN submissions s ON s.id = c.submission_id
               WHERE c.processed_at IS NULL AND c.failed_at IS NULL AND o.sent_at IS NOT NULL
               GROUP BY s.publisher_id),
           waiting AS (
               SELECT o.id, s.publisher_id,
                      row_number() OVER (PARTITION BY s.publisher_id ORDER BY o.id) AS turn
               FROM outbox o
               LEFT JOIN submission_chunks c ON c.event_id = o.event_id
               LEFT JOIN submissions s ON s.id = c.submission_id
               WHERE o.sent_at IS NULL)
           SELECT coalesce(array_agg(id ORDER BY slot, id), '{}') FROM (
               SELECT w.id, w.turn + coalesce(i.n, 0) AS slot
               FROM waiting w LEFT JOIN inflight i USING (publisher_id)
               WHERE w.publisher_id IS NULL OR w.turn + coalesce(i.n, 0) <= $2
               ORDER BY slot, w.id LIMIT $1) due""", limit, window)
    if not ids:
        return []
    return await conn.fetch(
        f"""{_WITH_ROWS}
            WHERE o.id = ANY($1::bigint[]) AND o.sent_at IS NULL
            ORDER BY array_position($1::bigint[], o.id) FOR UPDATE OF o SKIP LOCKED""", ids)


async def last_syncs(conn: asyncpg.Connection, source: str) -> list[asyncpg.Record]:
    """Each publisher's newest submission through a door (``source``: opensid, ckan): a skip
    scan over the door's index, one probe per publisher, however many syncs have piled up."""
    return await conn.fetch(
        f"""WITH RECURSIVE p AS (
              (SELECT publisher_id FROM submissions WHERE source = $1
               ORDER BY publisher_id LIMIT 1)
              UNION ALL
              SELECT (SELECT s.publisher_id FROM submissions s
                      WHERE s.source = $1 AND s.publisher_id > p.publisher_id
                      ORDER BY s.publisher_id LIMIT 1)
              FROM p WHERE p.publisher_id IS NOT NULL)
            SELECT s.id, s.publisher_id, s.dataset, s.rows, s.created_at, {_STATUS} AS status
            FROM p CROSS JOIN LATERAL (
              SELECT * FROM submissions s WHERE s.source = $1
                AND s.publisher_id = p.publisher_id ORDER BY s.created_at DESC LIMIT 1) s
            WHERE p.publisher_id IS NOT NULL ORDER BY s.publisher_id""", source)


async def now(conn: asyncpg.Connection):
    """The database's clock (what the stored times were written by)."""
    return await conn.fetchval("SELECT now()")
