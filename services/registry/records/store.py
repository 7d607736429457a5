"""SQL for reading master records and writing one new version of one record."""

from __future__ import annotations

import uuid

import asyncpg

from shared.sql import Where, valid_on


RECORD_SELECT = """SELECT r.id, d.slug AS dataset, r.region_code, r.period, r.dims, r.vals,
       r.version, r.status, r.publisher_id, r.submission_id, r.created_at, r.updated_at, r.seq,
       r.dims_key, d.retracted_at AS dataset_retracted_at,
       d.retraction_reason AS dataset_retraction_reason,
       EXISTS (SELECT 1 FROM held_values h WHERE h.dataset_id = r.dataset_id AND h.status = 'held'
               AND h.region_code = r.region_code AND h.period = r.period
               AND h.dims_key = r.dims_key) AS under_verification
FROM records r JOIN datasets d ON d.id = r.dataset_id"""


async def list_records(conn: asyncpg.Connection, *, dataset_id: int, region: str | None,
                       period_from: str | None, period_to: str | None,
                       dims: dict[str, str], after: tuple | None, limit: int) -> list[dict]:
    """Current records, keyset on (period, region, dims_key); ``region`` takes its subtree."""
    where = Where("r.dataset_id = {}", dataset_id).add("r.status = 'current'")
    if region:
        where.add("r.region_code IN (SELECT code FROM regions WHERE {} = ANY(path))", region)
    if period_from:
        where.add("r.period >= {}", period_from)
    if period_to:
        where.add("r.period <= {}", period_to)
    if dims:
        where.add("r.dims @> {}::jsonb", dims)
    if after:
        where.add("(r.period, r.region_code, r.dims_key) > ({}, {}, {})", *after)
    rows = await conn.fetch(
        f"""{RECORD_SELECT} {where.sql}
            ORDER BY r.period, r.region_code, r.dims_key LIMIT {where.param(limit)}""",
        *where.args)
    return [dict(r) for r in rows]


async def get_record(conn: asyncpg.Connection, record_id: uuid.UUID) -> dict | None:
    row = await conn.fetchrow(f"{RECORD_SELECT} WHERE r.id = $1", record_id)
    return dict(row) if row else None


async def record_history(conn: asyncpg.Connection, record_id: uuid.UUID) -> list[dict]:
    rows = await conn.fetch(
        "SELECT version, vals, status, publisher_id, submission_id, conflict_id, recorded_at, "
        "reason FROM record_versions WHERE record_id = $1 ORDER BY version", record_id)
    return [dict(r) for r in rows]


async def lock_record(conn: asyncpg.Connection, record_id: uuid.UUID) -> dict | None:
    row = await conn.fetchrow(f"{RECORD_SELECT} WHERE r.id = $1 FOR UPDATE OF r", record_id)
    return dict(row) if row else None


async def new_version(conn: asyncpg.Connection, record_id: uuid.UUID, *, status: str,
                      publisher_id: str, vals: dict | None = None,
                      submission_id: uuid.UUID | None = None,
                      conflict_id: uuid.UUID | None = None, reason: str | None = None) -> dict:
    """The record's next version (``vals`` None keeps the values: a retraction shows in
    history what was withdrawn), its history row written by the same statement, with the
    conflict it settles or the reason it was withdrawn for. The version's hash chains to the
    previous one (``records.hash``, migration 0005), as in ``staging_store.apply_staged``."""
    row = await conn.fetchrow(
        """WITH up AS (
             UPDATE records SET vals = coalesce($2::jsonb, vals), version = version + 1,
                    status = $3, publisher_id = $4, submission_id = $5, updated_at = now(),
                    seq = nextval('record_seq'),
                    hash = version_hash(hash, id, dataset_id, region_code, period, dims_key,
                                        version + 1, coalesce($2::jsonb, vals), $3, $4, $5,
                                        $6, $7, now())
             WHERE id = $1
             RETURNING id, region_code, period, dims, vals, version, status, publisher_id,
                       submission_id, updated_at, seq, hash),
           hist AS (
             INSERT INTO record_versions (record_id, version, vals, status, publisher_id,
                                          submission_id, conflict_id, recorded_at, seq, reason,
                                          hash)
             SELECT id, version, vals, status, publisher_id, submission_id, $6, updated_at,
                    seq, $7, hash
             FROM up)
           SELECT * FROM up""",
        record_id, vals, status, publisher_id, submission_id, conflict_id, reason)
    return dict(row)


async def records_after_seq(conn: asyncpg.Connection, since: int, limit: int) -> list[dict]:
    """The public change feed in change order: record versions (``change`` 'version') and
    the verification entries of held values (``change`` 'held', 'returned', 'verified',
    'superseded'; migration 0010), both numbered by ``record_seq``. Each side is read from
    its own ``seq`` index, at most ``limit`` rows."""
    rows = await conn.fetch(
        """SELECT * FROM (
             (SELECT 'version' AS change, v.record_id AS id, d.slug AS dataset, r.region_code,
                     r.period, r.dims, v.vals, v.version, v.status, v.publisher_id,
                     v.submission_id, v.recorded_at AS updated_at, v.seq, NULL::uuid AS held_id,
                     -- the record's latest version is marked while a value is held
                     (v.version = r.version AND EXISTS (SELECT 1 FROM held_values h
                        WHERE h.dataset_id = r.dataset_id AND h.status = 'held'
                          AND h.region_code = r.region_code AND h.period = r.period
                          AND h.dims_key = r.dims_key)) AS under_verification
              FROM record_versions v JOIN records r ON r.id = v.record_id
              JOIN datasets d ON d.id = r.dataset_id
              WHERE v.seq > $1 ORDER BY v.seq LIMIT $2)
             UNION ALL
             (SELECT e.kind, e.record_id, d.slug, e.region_code, e.period, e.dims,
                     '{}'::jsonb, NULL, NULL, e.publisher_id, NULL, e.at, e.seq, e.held_id,
                     CASE WHEN e.kind = 'held' THEN true END
              FROM verification_events e JOIN datasets d ON d.id = e.dataset_id
              WHERE e.seq > $1 ORDER BY e.seq LIMIT $2)) feed
           ORDER BY seq LIMIT $2""", since, limit)
    return [dict(r) for r in rows]


async def current_records_after(conn: asyncpg.Connection, after: uuid.UUID | None,
                                limit: int) -> list[dict]:
    """Every current master record, keyset by id: the snapshot search rebuilds from
    (a retracted dataset's records are left out, as search would drop them)."""
    rows = await conn.fetch(
        f"""{RECORD_SELECT} WHERE ($1::uuid IS NULL OR r.id > $1) AND d.retracted_at IS NULL
            ORDER BY r.id LIMIT $2""", after, limit)
    return [dict(r) for r in rows]


async def record_decisions(conn: asyncpg.Connection, record_id: uuid.UUID) -> list[dict]:
    rows = await conn.fetch(
        "SELECT id, status, created_at, decided_at FROM held_values WHERE record_id = $1 "
        "AND status <> 'superseded' ORDER BY created_at, id", record_id)
    return [dict(r) for r in rows]


async def current_of(conn: asyncpg.Connection, dataset_id: int, keys: list[dict]) -> list[dict]:
    """The current records of ``keys`` (region_code, period, dims_key) of a dataset not
    withdrawn, with their verification mark."""
    if not keys:
        return []
    rows = await conn.fetch(
        f"""{RECORD_SELECT}
            JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(region_code, period, dims_key)
              ON k.region_code = r.region_code AND k.period = r.period
             AND k.dims_key = r.dims_key
            WHERE r.dataset_id = $1 AND d.retracted_at IS NULL""",
        dataset_id, [k["region_code"] for k in keys], [k["period"] for k in keys],
        [k["dims_key"] for k in keys])
    return [dict(r) for r in rows]


async def before_their_code(conn: asyncpg.Connection, *, dataset: str | None,
                            record_ids: list | None, limit: int) -> list[dict]:
    """Current records stored under a code that was not yet in force in their period (an
    earlier rule followed a code to its successor whatever the period), each with the codes
    it came from that were in force then (the moves it can make). The codes with a start date
    are few; their records are found through them."""
    rows = await conn.fetch(f"""
        SELECT r.id, r.dataset_id, d.slug AS dataset, r.region_code, r.period, r.dims,
               r.dims_key, r.vals, r.publisher_id,
               ARRAY(SELECT DISTINCT p.code FROM region_changes c
                     CROSS JOIN LATERAL unnest(c.from_codes) f(code)
                     JOIN regions p ON p.code = f.code
                     WHERE r.region_code = ANY(c.to_codes) AND p.code <> r.region_code
                       AND {valid_on("p", "period_end(r.period)")}
                     ORDER BY p.code) AS candidates
        FROM regions g
        JOIN records r ON r.region_code = g.code AND r.status = 'current'
        JOIN datasets d ON d.id = r.dataset_id
        WHERE g.valid_from IS NOT NULL AND period_end(r.period) < g.valid_from
          AND ($1::text IS NULL OR d.slug = $1) AND ($2::uuid[] IS NULL OR r.id = ANY($2))
        ORDER BY d.slug, r.region_code, r.period, r.dims_key
        LIMIT $3""", dataset, record_ids, limit)
    return [dict(r) for r in rows]


async def event_labels(conn: asyncpg.Connection, publisher_ids: list[str], record_ids: list
                       ) -> tuple[dict, set, object]:
    """In one round trip (this runs once per event batch on the apply's hot path): the
    publishers' names, which of these records have a newer value held for the walidata,
    and the registry's clock, which orders re-sends of one version."""
    row = await conn.fetchrow(
        """SELECT ARRAY(SELECT ARRAY[p.id, p.name] FROM publishers p
                        WHERE p.id = ANY($1::text[])) AS names,
                  ARRAY(SELECT r.id FROM records r CROSS JOIN LATERAL (  -- a probe each
                          SELECT 1 FROM held_values h WHERE h.dataset_id = r.dataset_id
                            AND h.status = 'held' AND h.region_code = r.region_code
                            AND h.period = r.period AND h.dims_key = r.dims_key LIMIT 1) h
                        WHERE r.id = ANY($2::uuid[])) AS held,
                  clock_timestamp() AS sent_at""", publisher_ids, record_ids)
    return dict(row["names"]), set(row["held"]), row["sent_at"]
