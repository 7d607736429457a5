"""SQL for statistical metadata. Functions never commit (the caller owns the transaction).
The hash is computed by PostgreSQL over the document it stores (``jsonb::text``), so the
migration and the API hash alike and a later check can recompute it in SQL."""

from __future__ import annotations


import asyncpg

COLUMNS = """d.slug AS dataset, m.version, m.status, m.document, m.hash, m.note, m.submitted_by,
             m.submitted_at, m.decided_by, m.decided_at"""
HASH = "encode(sha256(convert_to(m.document::text, 'UTF8')), 'hex')"


def _version(row: asyncpg.Record | None) -> dict | None:
    if row is None:
        return None
    return dict(row)


async def add_version(conn: asyncpg.Connection, dataset_id: int, document: dict,
                      by: str) -> dict:
    """A new held version; a version still held before it is superseded. Serialised per
    dataset by locking its row."""
    await conn.execute("SELECT 1 FROM datasets WHERE id = $1 FOR UPDATE", dataset_id)
    await conn.execute(
        "UPDATE statistical_metadata SET status = 'superseded' "
        "WHERE dataset_id = $1 AND status = 'held'", dataset_id)
    row = await conn.fetchrow(
        f"""WITH added AS (
              INSERT INTO statistical_metadata (dataset_id, version, document, hash, status,
                                                submitted_by)
              SELECT $1, coalesce((SELECT max(version) FROM statistical_metadata
                                   WHERE dataset_id = $1), 0) + 1, doc,
                     encode(sha256(convert_to(doc::text, 'UTF8')), 'hex'), 'held', $3
              FROM (SELECT $2::jsonb AS doc) s
              RETURNING *)
            SELECT {COLUMNS} FROM added m JOIN datasets d ON d.id = m.dataset_id""",
        dataset_id, document, by)
    return _version(row)


async def get_version(conn: asyncpg.Connection, dataset_id: int, version: int) -> dict | None:
    return _version(await conn.fetchrow(
        f"""SELECT {COLUMNS} FROM statistical_metadata m JOIN datasets d ON d.id = m.dataset_id
            WHERE m.dataset_id = $1 AND m.version = $2""", dataset_id, version))


async def decide(conn: asyncpg.Connection, dataset_id: int, version: int, status: str,
                 note: str | None, by: str) -> dict | None:
    """Verify or return a held version (None: it is not held any more)."""
    return _version(await conn.fetchrow(
        f"""WITH decided AS (
              UPDATE statistical_metadata SET status = $3, note = $4, decided_by = $5,
                     decided_at = now()
              WHERE dataset_id = $1 AND version = $2 AND status = 'held' RETURNING *)
            SELECT {COLUMNS} FROM decided m JOIN datasets d ON d.id = m.dataset_id""",
        dataset_id, version, status, note, by))


async def versions(conn: asyncpg.Connection, dataset_id: int, before: int | None,
                   limit: int) -> list[dict]:
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM statistical_metadata m JOIN datasets d ON d.id = m.dataset_id
            WHERE m.dataset_id = $1 AND ($2::int IS NULL OR m.version < $2)
            ORDER BY m.version DESC LIMIT $3""", dataset_id, before, limit)
    return [_version(r) for r in rows]


async def published(conn: asyncpg.Connection, dataset_ids: list[int]
                    ) -> dict[int, tuple[dict | None, int | None]]:
    """Per dataset: its newest verified version and the number of a version still held."""
    rows = await conn.fetch(
        f"""SELECT w.id AS of_dataset, v.*,
                   (SELECT h.version FROM statistical_metadata h
                    WHERE h.dataset_id = w.id AND h.status = 'held'
                    ORDER BY h.version DESC LIMIT 1) AS held_version
            FROM unnest($1::bigint[]) w(id)
            LEFT JOIN LATERAL (SELECT {COLUMNS} FROM statistical_metadata m
                               JOIN datasets d ON d.id = m.dataset_id
                               WHERE m.dataset_id = w.id AND m.status = 'verified'
                               ORDER BY m.version DESC LIMIT 1) v ON true""", dataset_ids)
    out = {}
    for r in rows:
        version = {k: r[k] for k in r.keys() if k not in ("of_dataset", "held_version")}
        out[r["of_dataset"]] = (version if r["version"] is not None else None,
                                r["held_version"])
    return out


async def hash_breaks(conn: asyncpg.Connection, limit: int) -> list[dict]:
    """Versions whose stored hash is not the hash of the document they hold (altered);
    none before the table's migration (a release that did not have it)."""
    if await conn.fetchval("SELECT to_regclass('statistical_metadata')") is None:
        return []
    rows = await conn.fetch(
        f"""SELECT d.slug AS dataset, m.version FROM statistical_metadata m
            JOIN datasets d ON d.id = m.dataset_id WHERE m.hash <> {HASH}
            ORDER BY d.slug, m.version LIMIT $1""", limit)
    return [dict(r) for r in rows]
