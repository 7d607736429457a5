"""SQL for conflicts: opened by a submission, listed, resolved by the walidata."""

from __future__ import annotations

import uuid

import asyncpg

from shared.sql import Where


CONFLICT_SELECT = """SELECT c.id, d.slug AS dataset, c.record_id, r.region_code,
       g.name AS region_name, r.period, r.dims, c.status, c.base_version,
       r.version AS record_version, c.current_vals, c.current_publisher,
       cp.name AS current_publisher_name, c.proposed_vals, c.proposed_publisher,
       pp.name AS proposed_publisher_name, c.submission_id, c.created_at, c.resolved_at,
       c.resolved_by, c.resolution_note, r.vals AS record_vals, r.publisher_id AS record_publisher
FROM conflicts c JOIN records r ON r.id = c.record_id JOIN datasets d ON d.id = c.dataset_id
JOIN regions g ON g.code = r.region_code
LEFT JOIN publishers cp ON cp.id = c.current_publisher
LEFT JOIN publishers pp ON pp.id = c.proposed_publisher"""


async def list_conflicts(conn: asyncpg.Connection, *, dataset_id: int | None,
                         status: str | None, publisher_id: str | None,
                         after: tuple | None, limit: int) -> list[dict]:
    """Newest first, keyset on (created_at, id); ``publisher_id`` limits to conflicts where
    that publisher is one of the two sides."""
    where = Where()
    if dataset_id is not None:
        where.add("c.dataset_id = {}", dataset_id)
    if status:
        where.add("c.status = {}", status)
    if publisher_id:
        where.add("(c.proposed_publisher = {} OR c.current_publisher = {})",
                  publisher_id, publisher_id)
    if after:
        where.add("(c.created_at, c.id) < ({}::timestamptz, {}::uuid)", *after)
    rows = await conn.fetch(
        f"""{CONFLICT_SELECT} {where.sql}
            ORDER BY c.created_at DESC, c.id DESC LIMIT {where.param(limit)}""", *where.args)
    return [dict(r) for r in rows]


async def get_conflict(conn: asyncpg.Connection, conflict_id: uuid.UUID, *, lock: bool = False
                       ) -> dict | None:
    """With ``lock``, the conflict and its record stay locked until the caller commits."""
    row = await conn.fetchrow(
        f"{CONFLICT_SELECT} WHERE c.id = $1" + (" FOR UPDATE OF c, r" if lock else ""),
        conflict_id)
    return dict(row) if row else None


async def resolve_conflict(conn: asyncpg.Connection, conflict_id: uuid.UUID, status: str,
                           resolved_by: str, note: str | None) -> None:
    await conn.execute(
        """UPDATE conflicts SET status = $2, resolved_at = now(), resolved_by = $3,
                  resolution_note = $4 WHERE id = $1""", conflict_id, status, resolved_by, note)


async def open_conflicts(conn: asyncpg.Connection, dataset_id: int, idxs: list[int],
                         publisher_id: str, submission_id: uuid.UUID | None) -> int:
    """Open (or refresh) one conflict per staged row that disagrees with the master."""
    if not idxs:
        return 0
    result = await conn.execute(
        """INSERT INTO conflicts (record_id, dataset_id, base_version, current_vals,
                                  current_publisher, proposed_vals, proposed_publisher,
                                  submission_id)
           SELECT r.id, $1, r.version, r.vals, r.publisher_id, i.vals, $3, $4
           FROM incoming i CROSS JOIN LATERAL (  -- a probe per staged row
             SELECT r.id, r.version, r.vals, r.publisher_id FROM records r
             WHERE r.dataset_id = $1 AND r.dims_key = i.dims_key
               AND r.region_code = i.region_code AND r.period = i.period LIMIT 1) r
           WHERE i.idx = ANY($2::int[])
           ON CONFLICT (record_id, proposed_publisher) WHERE status = 'open' DO UPDATE
             SET proposed_vals = excluded.proposed_vals, submission_id = excluded.submission_id,
                 base_version = excluded.base_version, current_vals = excluded.current_vals,
                 current_publisher = excluded.current_publisher, created_at = now()""",
        dataset_id, idxs, publisher_id, submission_id)
    return int(result.split()[-1])


async def supersede_conflicts(conn: asyncpg.Connection, record_ids: list[uuid.UUID]) -> None:
    """A new authoritative version settles older open disagreements about the same record."""
    if record_ids:
        await conn.execute(
            "UPDATE conflicts SET status = 'superseded', resolved_at = now() "
            "WHERE record_id = ANY($1::uuid[]) AND status = 'open' "
            "AND proposed_vals = (SELECT vals FROM records WHERE id = record_id)", record_ids)


async def supersede_agreeing(conn: asyncpg.Connection, dataset_id: int, idxs: list[int],
                             publisher_id: str) -> int:
    """A publisher that now sends the master's own value withdraws its open disagreement."""
    if not idxs:
        return 0
    result = await conn.execute(
        """UPDATE conflicts c SET status = 'superseded', resolved_at = now(),
                  resolution_note = 'produsen mengirim nilai yang sama dengan nilai induk'
           WHERE c.status = 'open' AND c.dataset_id = $1 AND c.proposed_publisher = $3
             AND c.record_id = ANY(ARRAY(  -- the staged rows' records, probed by key
               SELECT r.id FROM incoming i CROSS JOIN LATERAL (
                 SELECT r.id FROM records r
                 WHERE r.dataset_id = $1 AND r.dims_key = i.dims_key
                   AND r.region_code = i.region_code AND r.period = i.period LIMIT 1) r
               WHERE i.idx = ANY($2::int[])))""",
        dataset_id, idxs, publisher_id)
    return int(result.split()[-1])
