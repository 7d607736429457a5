"""The hot path: COPY a chunk into a temporary table, classify it against the master in one
query, upsert it in one statement; and the chunk claims that make a chunk apply once."""

from __future__ import annotations

import uuid

import asyncpg

import json

from services.registry.records.validation import ValidRow


async def stage_rows(conn: asyncpg.Connection, rows: list[ValidRow]) -> None:
    """COPY the chunk's valid rows into a temporary table, emptied at commit.

    The table lives as long as the connection (no catalog churn per chunk) and is emptied
    first, so one transaction may apply several chunks.
    """
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS incoming (idx int, region_code text, period text, "
        "dims_key text, dims jsonb, vals jsonb) ON COMMIT DELETE ROWS; DELETE FROM incoming")
    await conn.copy_records_to_table(
        "incoming",
        records=[(r.index, r.region_code, r.period, r.dims_key, r.dims, r.values) for r in rows],
        columns=["idx", "region_code", "period", "dims_key", "dims", "vals"],
    )


async def classify_staged(conn: asyncpg.Connection, dataset_id: int, *,
                          with_values: bool = False) -> list[asyncpg.Record]:
    """Each staged key (last row wins) next to its current master record, if any: driven by
    the staged chunk, so its cost never grows with the records already stored.

    The values themselves come back only ``with_values`` (the dry run's diff): decoding them
    is a good part of the hot path's time otherwise.
    """
    values = ("r.vals AS current_vals, i.vals AS new_vals" if with_values
              else "NULL AS current_vals, NULL AS new_vals")
    return await conn.fetch(
        f"""SELECT i.idx, i.region_code, i.period, i.dims_key,
                  r.id AS record_id, r.version, r.publisher_id AS current_publisher,
                  (r.vals = i.vals) AS same, {values}
           FROM (SELECT DISTINCT ON (region_code, period, dims_key) *
                 FROM incoming ORDER BY region_code, period, dims_key, idx DESC) i
           LEFT JOIN LATERAL (  -- one probe of the record key per staged row, whatever the
             SELECT * FROM records r  -- statistics say of records' size
             WHERE r.dataset_id = $1 AND r.dims_key = i.dims_key
               AND r.region_code = i.region_code AND r.period = i.period LIMIT 1) r ON true
           ORDER BY i.idx""", dataset_id)


async def apply_staged(conn: asyncpg.Connection, dataset_id: int, idxs: list[int],
                       publisher_id: str, submission_id: uuid.UUID | None,
                       reason: str | None = None) -> list[dict]:
    """Upsert the staged rows ``idxs`` as new master versions, keeping each old version.

    One INSERT ... ON CONFLICT; the RETURNING rows feed record_versions in the same statement.
    Each new version's hash chains to the record's previous one (``records.hash``, see
    migration 0005), computed per row in this statement over exactly what the history row
    stores, ``reason`` included (the walidata's verification note): no lock shared between
    records, so chunks stay parallel, and nothing is written into a version afterwards.
    """
    if not idxs:
        return []
    rows = await conn.fetch(
        """WITH up AS (
             INSERT INTO records AS r (id, dataset_id, region_code, period, dims_key, dims,
                                       vals, publisher_id, submission_id, hash)
             SELECT id, $1, region_code, period, dims_key, dims, vals, $3, $4,
                    version_hash(NULL, id, $1, region_code, period, dims_key, 1, vals,
                                 'current', $3, $4, NULL, $5, now())
             FROM (SELECT gen_random_uuid() AS id, * FROM incoming
                   WHERE idx = ANY($2::int[])) i
             ON CONFLICT (dataset_id, region_code, period, dims_key) DO UPDATE
               SET vals = excluded.vals, version = r.version + 1, status = 'current',
                   publisher_id = excluded.publisher_id, submission_id = excluded.submission_id,
                   updated_at = now(), seq = nextval('record_seq'),
                   hash = version_hash(r.hash, r.id, r.dataset_id, r.region_code, r.period,
                                       r.dims_key, r.version + 1, excluded.vals, 'current',
                                       excluded.publisher_id, excluded.submission_id, NULL,
                                       $5, now())
               WHERE r.vals IS DISTINCT FROM excluded.vals OR r.status <> 'current'
                  OR r.publisher_id IS DISTINCT FROM excluded.publisher_id
             RETURNING r.id, r.region_code, r.period, r.dims, r.vals, r.version, r.status,
                       r.publisher_id, r.submission_id, r.updated_at, r.seq, r.hash),
           hist AS (
             INSERT INTO record_versions (record_id, version, vals, status, publisher_id,
                                          submission_id, recorded_at, seq, reason, hash)
             SELECT id, version, vals, status, publisher_id, submission_id, updated_at, seq,
                    $5, hash
             FROM up)
           SELECT * FROM up""",
        dataset_id, idxs, publisher_id, submission_id, reason)
    return [dict(r) for r in rows]


async def claim_chunk(conn: asyncpg.Connection, submission_id: uuid.UUID, chunk: int) -> bool:
    """True for the first transaction to apply this chunk; a concurrent duplicate waits here
    until the first commits (then False) or rolls back (then True)."""
    return bool(await conn.fetchval(
        "INSERT INTO applied_chunks (submission_id, chunk) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING RETURNING true", submission_id, chunk))


async def chunk_summary(conn: asyncpg.Connection, submission_id: uuid.UUID, chunk: int
                        ) -> dict | None:
    value = await conn.fetchval(
        "SELECT summary::text FROM applied_chunks WHERE submission_id = $1 AND chunk = $2",
        submission_id, chunk)
    return json.loads(value) if value else None


async def save_chunk_summary(conn: asyncpg.Connection, submission_id: uuid.UUID, chunk: int,
                             summary: dict) -> None:
    await conn.execute(
        "UPDATE applied_chunks SET summary = $3::text::jsonb "
        "WHERE submission_id = $1 AND chunk = $2", submission_id, chunk, json.dumps(summary))
