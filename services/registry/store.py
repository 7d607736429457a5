"""SQL for the registry schema. Functions add and flush; they never commit."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.registry.validation import Region, ValidRow

# --- regions ------------------------------------------------------------------------------


async def load_regions(conn: asyncpg.Connection) -> list[Region]:
    rows = await conn.fetch(
        "SELECT code, name, level, parent_code, path, valid_until::text, successor_code "
        "FROM regions")
    return [Region(r["code"], r["name"], r["level"], r["parent_code"], tuple(r["path"]),
                   r["valid_until"], r["successor_code"]) for r in rows]


async def load_active_aliases(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT region_code, kind, alias FROM region_aliases WHERE status = 'active'")
    return [(r["region_code"], r["kind"], r["alias"]) for r in rows]


async def upsert_regions(conn: asyncpg.Connection, rows: list[dict]) -> int:
    """Insert or update regions (code, name, level, parent_code, path, valid_from)."""
    result = await conn.executemany(
        """INSERT INTO regions (code, name, level, parent_code, path, valid_from)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
             parent_code = excluded.parent_code, path = excluded.path,
             version = regions.version + 1, updated_at = now()
           WHERE (regions.name, regions.level, regions.parent_code, regions.path)
             IS DISTINCT FROM (excluded.name, excluded.level, excluded.parent_code, excluded.path)""",
        [(r["code"], r["name"], r["level"], r["parent_code"], r["path"], r.get("valid_from"))
         for r in rows],
    )
    return len(rows) if result is None else len(rows)


async def add_aliases(conn: asyncpg.Connection, rows: list[dict]) -> list[dict]:
    """Insert aliases not yet known; returns the rows actually inserted."""
    inserted = []
    for r in rows:
        got = await conn.fetchrow(
            """INSERT INTO region_aliases (region_code, kind, alias, alias_norm, source, status,
                                           note, valid_from, valid_until)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (kind, alias_norm, region_code) DO NOTHING
               RETURNING id, region_code, kind, alias, status, note""",
            r["region_code"], r["kind"], r["alias"], r["alias_norm"], r["source"],
            r.get("status", "active"), r.get("note"), r.get("valid_from"), r.get("valid_until"))
        if got:
            inserted.append(dict(got))
    return inserted


async def list_aliases(conn: asyncpg.Connection, *, region_code: str | None = None,
                       status: str | None = None) -> list[dict]:
    rows = await conn.fetch(
        """SELECT id, region_code, kind, alias, source, status, note, created_at
           FROM region_aliases
           WHERE ($1::text IS NULL OR region_code = $1) AND ($2::text IS NULL OR status = $2)
           ORDER BY region_code, kind, alias""", region_code, status)
    return [dict(r) for r in rows]


async def set_alias_status(conn: asyncpg.Connection, alias_id: int, status: str,
                           note: str | None) -> dict | None:
    row = await conn.fetchrow(
        """UPDATE region_aliases SET status = $2, note = coalesce($3, note) WHERE id = $1
           RETURNING id, region_code, kind, alias, source, status, note, created_at""",
        alias_id, status, note)
    return dict(row) if row else None


async def retire_region(conn: asyncpg.Connection, code: str, successor: str,
                        valid_until) -> None:
    await conn.execute(
        "UPDATE regions SET valid_until = $2, successor_code = $3, version = version + 1, "
        "updated_at = now() WHERE code = $1", code, valid_until, successor)


async def get_region(conn: asyncpg.Connection, code: str) -> dict | None:
    row = await conn.fetchrow(
        "SELECT code, name, level, parent_code, path, valid_from, valid_until, successor_code, "
        "version FROM regions WHERE code = $1", code)
    return dict(row) if row else None


async def region_children(conn: asyncpg.Connection, code: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT code, name, level, parent_code FROM regions WHERE parent_code = $1 "
        "ORDER BY code", code)
    return [dict(r) for r in rows]


async def all_regions(conn: asyncpg.Connection) -> list[dict]:
    rows = await conn.fetch(
        "SELECT code, name, level, parent_code, path, valid_until, successor_code, version "
        "FROM regions ORDER BY code")
    return [dict(r) for r in rows]


async def aliases_by_region(conn: asyncpg.Connection) -> dict[str, list[str]]:
    rows = await conn.fetch(
        "SELECT region_code, array_agg(alias ORDER BY alias) AS aliases FROM region_aliases "
        "WHERE status = 'active' GROUP BY region_code")
    return {r["region_code"]: list(r["aliases"]) for r in rows}


# --- publishers and keys ------------------------------------------------------------------


async def upsert_publisher(conn: asyncpg.Connection, *, id: str, name: str, kind: str,
                           region_scope: str, datasets: list[str]) -> None:
    await conn.execute(
        """INSERT INTO publishers (id, name, kind, region_scope, datasets)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
             region_scope = excluded.region_scope, datasets = excluded.datasets""",
        id, name, kind, region_scope, datasets)


async def get_publisher(conn: asyncpg.Connection, publisher_id: str) -> dict | None:
    row = await conn.fetchrow("SELECT * FROM publishers WHERE id = $1", publisher_id)
    return dict(row) if row else None


async def list_publishers(conn: asyncpg.Connection) -> list[dict]:
    return [dict(r) for r in await conn.fetch("SELECT * FROM publishers ORDER BY id")]


async def insert_key(conn: asyncpg.Connection, *, id: str, publisher_id: str, role: str,
                     key_hash: str, label: str, expires_at=None) -> dict:
    row = await conn.fetchrow(
        """INSERT INTO api_keys (id, publisher_id, role, key_hash, label, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING id, publisher_id, role, label, created_at, expires_at, revoked_at""",
        id, publisher_id, role, key_hash, label, expires_at)
    return dict(row)


async def key_exists(conn: asyncpg.Connection, key_hash: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM api_keys WHERE key_hash = $1", key_hash))


async def find_key(conn: asyncpg.Connection, key_hash: str) -> dict | None:
    row = await conn.fetchrow(
        """SELECT k.id AS key_id, k.role, k.expires_at, k.revoked_at, p.id AS publisher_id,
                  p.name AS publisher_name, p.region_scope, p.datasets
           FROM api_keys k JOIN publishers p ON p.id = k.publisher_id
           WHERE k.key_hash = $1""", key_hash)
    return dict(row) if row else None


async def list_keys(conn: asyncpg.Connection) -> list[dict]:
    rows = await conn.fetch(
        "SELECT id, publisher_id, role, label, created_at, expires_at, revoked_at "
        "FROM api_keys ORDER BY created_at")
    return [dict(r) for r in rows]


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> dict | None:
    row = await conn.fetchrow(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 "
        "RETURNING id, publisher_id, role, label, created_at, expires_at, revoked_at", key_id)
    return dict(row) if row else None


# --- datasets -----------------------------------------------------------------------------

DATASET_COLUMNS = ("id, slug, title, description, frequency, topic, tags, license, metadata, "
                   "schema, authoritative, version, created_at, updated_at")


async def get_dataset(conn: asyncpg.Connection, slug: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT {DATASET_COLUMNS} FROM datasets WHERE slug = $1", slug)
    return dict(row) if row else None


async def list_datasets(conn: asyncpg.Connection) -> list[dict]:
    rows = await conn.fetch(f"SELECT {DATASET_COLUMNS} FROM datasets ORDER BY slug")
    return [dict(r) for r in rows]


async def insert_dataset(conn: asyncpg.Connection, d: dict) -> dict:
    row = await conn.fetchrow(
        f"""INSERT INTO datasets (slug, title, description, frequency, topic, tags, license,
                                  metadata, schema, authoritative)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            RETURNING {DATASET_COLUMNS}""",
        d["slug"], d["title"], d.get("description", ""), d["frequency"], d.get("topic"),
        d.get("tags", []), d.get("license", "CC-BY-4.0"), d.get("metadata", {}), d["schema"],
        d.get("authoritative", []))
    return dict(row)


async def update_dataset(conn: asyncpg.Connection, slug: str, changes: dict) -> dict | None:
    allowed = ("title", "description", "frequency", "topic", "tags", "license", "metadata",
               "schema", "authoritative")
    sets, args = [], [slug]
    for key in allowed:
        if key in changes:
            args.append(changes[key])
            sets.append(f"{key} = ${len(args)}")
    if not sets:
        return await get_dataset(conn, slug)
    row = await conn.fetchrow(
        f"UPDATE datasets SET {', '.join(sets)}, version = version + 1, updated_at = now() "
        f"WHERE slug = $1 RETURNING {DATASET_COLUMNS}", *args)
    return dict(row) if row else None


# --- master records: the hot path ---------------------------------------------------------


async def stage_rows(conn: asyncpg.Connection, rows: list[ValidRow]) -> None:
    """COPY the chunk's valid rows into a temporary table (dropped at commit)."""
    await conn.execute(
        "CREATE TEMP TABLE incoming (idx int, region_code text, period text, dims_key text, "
        "dims jsonb, vals jsonb) ON COMMIT DROP")
    await conn.copy_records_to_table(
        "incoming",
        records=[(r.index, r.region_code, r.period, r.dims_key, r.dims, r.values) for r in rows],
        columns=["idx", "region_code", "period", "dims_key", "dims", "vals"],
    )


async def classify_staged(conn: asyncpg.Connection, dataset_id: int) -> list[asyncpg.Record]:
    """Each staged key (last row wins) next to its current master record, if any."""
    return await conn.fetch(
        """SELECT i.idx, i.region_code, i.period, i.dims_key,
                  r.id AS record_id, r.version, r.publisher_id AS current_publisher,
                  r.vals AS current_vals, (r.vals = i.vals) AS same, i.vals AS new_vals
           FROM (SELECT DISTINCT ON (region_code, period, dims_key) *
                 FROM incoming ORDER BY region_code, period, dims_key, idx DESC) i
           LEFT JOIN records r ON r.dataset_id = $1 AND r.region_code = i.region_code
                AND r.period = i.period AND r.dims_key = i.dims_key
           ORDER BY i.idx""", dataset_id)


async def apply_staged(conn: asyncpg.Connection, dataset_id: int, idxs: list[int],
                       publisher_id: str, submission_id: uuid.UUID | None) -> list[dict]:
    """Upsert the staged rows ``idxs`` as new master versions, keeping each old version.

    One INSERT ... ON CONFLICT; the RETURNING rows feed record_versions in the same statement.
    """
    if not idxs:
        return []
    rows = await conn.fetch(
        """WITH up AS (
             INSERT INTO records AS r (dataset_id, region_code, period, dims_key, dims, vals,
                                       publisher_id, submission_id)
             SELECT $1, region_code, period, dims_key, dims, vals, $3, $4
             FROM incoming WHERE idx = ANY($2::int[])
             ON CONFLICT (dataset_id, region_code, period, dims_key) DO UPDATE
               SET vals = excluded.vals, version = r.version + 1, status = 'current',
                   publisher_id = excluded.publisher_id, submission_id = excluded.submission_id,
                   updated_at = now(), seq = nextval('record_seq')
               WHERE r.vals IS DISTINCT FROM excluded.vals OR r.status <> 'current'
             RETURNING r.id, r.region_code, r.period, r.dims, r.vals, r.version, r.status,
                       r.publisher_id, r.submission_id, r.updated_at, r.seq),
           hist AS (
             INSERT INTO record_versions (record_id, version, vals, status, publisher_id,
                                          submission_id, recorded_at, seq)
             SELECT id, version, vals, status, publisher_id, submission_id, updated_at, seq
             FROM up)
           SELECT * FROM up""",
        dataset_id, idxs, publisher_id, submission_id)
    return [dict(r) for r in rows]


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
           FROM incoming i JOIN records r ON r.dataset_id = $1 AND r.region_code = i.region_code
                AND r.period = i.period AND r.dims_key = i.dims_key
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


RECORD_SELECT = """SELECT r.id, d.slug AS dataset, r.region_code, r.period, r.dims, r.vals,
       r.version, r.status, r.publisher_id, r.submission_id, r.created_at, r.updated_at, r.seq,
       r.dims_key
FROM records r JOIN datasets d ON d.id = r.dataset_id"""


async def list_records(conn: asyncpg.Connection, *, dataset_id: int, region: str | None,
                       period_from: str | None, period_to: str | None,
                       dims: dict[str, str], after: tuple[str, str, str] | None,
                       limit: int) -> list[dict]:
    args: list[Any] = [dataset_id]
    where = ["r.dataset_id = $1", "r.status = 'current'"]
    if region:
        args.append(region)
        where.append(f"r.region_code IN (SELECT code FROM regions WHERE ${len(args)} = ANY(path))")
    if period_from:
        args.append(period_from)
        where.append(f"r.period >= ${len(args)}")
    if period_to:
        args.append(period_to)
        where.append(f"r.period <= ${len(args)}")
    if dims:
        args.append(dims)
        where.append(f"r.dims @> ${len(args)}::jsonb")
    if after:
        args.extend(after)
        n = len(args)
        where.append(f"(r.period, r.region_code, r.dims_key) > (${n-2}, ${n-1}, ${n})")
    args.append(limit)
    rows = await conn.fetch(
        f"""{RECORD_SELECT} WHERE {' AND '.join(where)}
            ORDER BY r.period, r.region_code, r.dims_key LIMIT ${len(args)}""", *args)
    return [dict(r) for r in rows]


async def get_record(conn: asyncpg.Connection, record_id: uuid.UUID) -> dict | None:
    row = await conn.fetchrow(f"{RECORD_SELECT} WHERE r.id = $1", record_id)
    return dict(row) if row else None


async def record_history(conn: asyncpg.Connection, record_id: uuid.UUID) -> list[dict]:
    rows = await conn.fetch(
        "SELECT version, vals, status, publisher_id, submission_id, conflict_id, recorded_at "
        "FROM record_versions WHERE record_id = $1 ORDER BY version", record_id)
    return [dict(r) for r in rows]


async def records_by_ids(conn: asyncpg.Connection, ids: list[uuid.UUID]) -> list[dict]:
    rows = await conn.fetch(f"{RECORD_SELECT} WHERE r.id = ANY($1::uuid[])", ids)
    return [dict(r) for r in rows]


async def records_after_seq(conn: asyncpg.Connection, since: int, limit: int) -> list[dict]:
    """Record versions in change order: the public change feed."""
    rows = await conn.fetch(
        """SELECT v.record_id AS id, d.slug AS dataset, r.region_code, r.period, r.dims,
                  v.vals, v.version, v.status, v.publisher_id, v.submission_id,
                  v.recorded_at AS updated_at, v.seq
           FROM record_versions v JOIN records r ON r.id = v.record_id
           JOIN datasets d ON d.id = r.dataset_id
           WHERE v.seq > $1 ORDER BY v.seq LIMIT $2""", since, limit)
    return [dict(r) for r in rows]


async def current_records_after(conn: asyncpg.Connection, after: uuid.UUID | None,
                                limit: int) -> list[dict]:
    """Every current master record, keyset by id: the snapshot search rebuilds from."""
    rows = await conn.fetch(
        f"""{RECORD_SELECT} WHERE ($1::uuid IS NULL OR r.id > $1)
            ORDER BY r.id LIMIT $2""", after, limit)
    return [dict(r) for r in rows]
