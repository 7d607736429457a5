"""SQL of the audit log and of the chain checks; never commits."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

LOCK = "hashtext('registry.audit_log')"
COLUMNS = ("id, at, actor, key_id, role, action, target, details, client_addr, request_id, "
           "encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash")


async def append(conn: asyncpg.Connection, *, actor: str, key_id: str | None,
                 role: str | None, action: str, target: str | None, details: dict[str, Any],
                 client_addr: str | None, request_id: str | None) -> dict:
    """One chain: appends are serialised by a transaction-scoped advisory lock (privileged
    actions are rare), so each entry links to the one committed before it."""
    await conn.execute(f"SELECT pg_advisory_xact_lock({LOCK})")
    row = await conn.fetchrow(
        f"""WITH n AS (SELECT nextval('audit_log_id_seq') AS id, now() AS at),
                p AS (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1)
            INSERT INTO audit_log (id, at, actor, key_id, role, action, target, details,
                                   client_addr, request_id, prev_hash, hash)
            SELECT n.id, n.at, $1, $2, $3, $4, $5, $6::text::jsonb, $7, $8, p.hash,
                   audit_hash(p.hash, n.id, n.at, $1, $2, $3, $4, $5, $6::text::jsonb, $7, $8)
            FROM n LEFT JOIN p ON true
            RETURNING {COLUMNS}""",
        actor, key_id, role, action, target, json.dumps(details, ensure_ascii=False,
                                                        default=str),
        client_addr, request_id)
    return dict(row)


async def entries(conn: asyncpg.Connection, *, action: str | None, actor: str | None,
                  target: str | None, before: int | None, limit: int) -> list[dict]:
    """Newest first, keyset on id."""
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM audit_log
            WHERE ($1::text IS NULL OR action = $1 OR action LIKE $1 || '.%')
              AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR target = $3)
              AND ($4::bigint IS NULL OR id < $4)
            ORDER BY id DESC LIMIT $5""", action, actor, target, before, limit)
    return [dict(r) for r in rows]


# --- chain checks (satudata verify) -------------------------------------------------------

# A version the walidata verified before the verification note was hashed with it (the note
# was written into the history row after the apply had hashed it) carries a hash over a NULL
# reason: accepted as such, and counted, so an upgrade neither rewrites history nor raises an
# alarm for every verified value; such a note is not covered by the chain.
LEGACY_VERIFIED_NOTE = "Diverifikasi walidata%"

VERSION_BREAKS = """
WITH v AS (
  SELECT v.record_id, v.version, v.hash, v.reason,
         lag(v.version) OVER w AS prev_version,
         version_hash(lag(v.hash) OVER w, v.record_id, r.dataset_id, r.region_code, r.period,
                      r.dims_key, v.version, v.vals, v.status, v.publisher_id,
                      v.submission_id, v.conflict_id, v.reason, v.recorded_at) AS expected,
         CASE WHEN v.reason LIKE $1 THEN
           version_hash(lag(v.hash) OVER w, v.record_id, r.dataset_id, r.region_code, r.period,
                        r.dims_key, v.version, v.vals, v.status, v.publisher_id,
                        v.submission_id, v.conflict_id, NULL, v.recorded_at) END AS legacy
  FROM record_versions v JOIN records r ON r.id = v.record_id
  WINDOW w AS (PARTITION BY v.record_id ORDER BY v.version))
SELECT record_id, version,
       CASE WHEN version <> coalesce(prev_version, 0) + 1 THEN 'version_missing_before'
            WHEN hash IS NULL THEN 'hash_missing'
            WHEN hash = legacy THEN 'legacy_note'
            ELSE 'hash_mismatch' END AS problem
FROM v
WHERE version <> coalesce(prev_version, 0) + 1 OR hash IS DISTINCT FROM expected
ORDER BY record_id, version"""

HEAD_BREAKS = """
SELECT r.id AS record_id, r.version,
       CASE WHEN v.record_id IS NULL THEN 'current_version_missing'
            WHEN EXISTS (SELECT 1 FROM record_versions x
                         WHERE x.record_id = r.id AND x.version > r.version)
                 THEN 'versions_after_current'
            WHEN r.hash IS DISTINCT FROM v.hash THEN 'head_hash_mismatch'
            ELSE 'current_differs_from_history' END AS problem
FROM records r LEFT JOIN record_versions v ON v.record_id = r.id AND v.version = r.version
WHERE v.record_id IS NULL OR r.hash IS DISTINCT FROM v.hash
   OR (r.vals, r.status, r.publisher_id, r.submission_id)
      IS DISTINCT FROM (v.vals, v.status, v.publisher_id, v.submission_id)
   OR EXISTS (SELECT 1 FROM record_versions x WHERE x.record_id = r.id AND x.version > r.version)
ORDER BY r.id LIMIT $1"""

AUDIT_BREAKS = """
WITH a AS (
  SELECT id, hash, prev_hash, lag(hash) OVER (ORDER BY id) AS before,
         audit_hash(prev_hash, id, at, actor, key_id, role, action, target, details,
                    client_addr, request_id) AS expected
  FROM audit_log)
SELECT id, CASE WHEN prev_hash IS DISTINCT FROM before THEN 'entry_missing_before'
                ELSE 'hash_mismatch' END AS problem
FROM a WHERE prev_hash IS DISTINCT FROM before OR hash IS DISTINCT FROM expected
ORDER BY id LIMIT $1"""


async def version_breaks(conn: asyncpg.Connection, limit: int) -> tuple[list[dict], int]:
    """The breaks (at most ``limit``) and how many verified versions carry a legacy note."""
    breaks, legacy = [], 0
    async with conn.transaction():  # a cursor streams the rows: history can be long
        async for r in conn.cursor(VERSION_BREAKS, LEGACY_VERIFIED_NOTE):
            if r["problem"] == "legacy_note":
                legacy += 1
            elif len(breaks) < limit:
                breaks.append(dict(r))
    return breaks, legacy


async def head_breaks(conn: asyncpg.Connection, limit: int) -> list[dict]:
    return [dict(r) for r in await conn.fetch(HEAD_BREAKS, limit)]


async def audit_breaks(conn: asyncpg.Connection, limit: int) -> list[dict]:
    return [dict(r) for r in await conn.fetch(AUDIT_BREAKS, limit)]


async def counts(conn: asyncpg.Connection) -> dict:
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM record_versions) AS versions,
                  (SELECT count(*) FROM audit_log) AS audit_entries,
                  (SELECT encode(hash, 'hex') FROM audit_log ORDER BY id DESC LIMIT 1)
                      AS audit_head""")
    return dict(row)
