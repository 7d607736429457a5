"""SQL for regions and their aliases. Functions never commit (the caller owns the transaction)."""

from __future__ import annotations

import asyncpg

from services.registry.regions.index import Lineage, Region


async def load_regions(conn: asyncpg.Connection) -> list[Region]:
    rows = await conn.fetch(
        "SELECT code, name, level, parent_code, path, valid_until::text, successor_code, "
        "valid_from::text FROM regions")
    return [Region(r["code"], r["name"], r["level"], r["parent_code"], tuple(r["path"]),
                   r["valid_until"], r["successor_code"], r["valid_from"]) for r in rows]


async def load_lineage(conn: asyncpg.Connection) -> list[Lineage]:
    rows = await conn.fetch("SELECT from_codes, to_codes FROM region_changes "
                            "WHERE cardinality(from_codes) > 0 AND cardinality(to_codes) > 0")
    return [Lineage(tuple(r["from_codes"]), tuple(r["to_codes"])) for r in rows]


CHANGE_COLUMNS = ("id, kind, effective, from_codes, to_codes, decree_number, decree_date, note, "
                  "source, sample, created_by, created_at")


async def insert_change(conn: asyncpg.Connection, change: dict, created_by: str | None
                        ) -> dict:
    row = await conn.fetchrow(
        f"""INSERT INTO region_changes (kind, effective, from_codes, to_codes, decree_number,
                                        decree_date, note, source, sample, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {CHANGE_COLUMNS}""",
        change["kind"], change.get("effective"), change["from_codes"], change["to_codes"],
        change.get("decree_number"), change.get("decree_date"), change.get("note"),
        change["source"], change.get("sample", False), created_by)
    return dict(row)


async def insert_missing_change(conn: asyncpg.Connection, change: dict) -> bool:
    """A change from the shipped reference data, once (same kind and codes)."""
    return bool(await conn.fetchval(
        """INSERT INTO region_changes (kind, effective, from_codes, to_codes, note, source)
           SELECT $1, $2, $3, $4, $5, $6
           WHERE NOT EXISTS (SELECT 1 FROM region_changes WHERE kind = $1
                               AND from_codes = $3 AND to_codes = $4)
           RETURNING true""",
        change["kind"], change.get("effective"), change["from_codes"], change["to_codes"],
        change.get("note"), change["source"]))


async def changes_of(conn: asyncpg.Connection, codes: list[str] | None = None) -> list[dict]:
    """The changes touching any of ``codes`` (every change when None), newest first."""
    rows = await conn.fetch(
        f"""SELECT {CHANGE_COLUMNS} FROM region_changes
            WHERE $1::text[] IS NULL OR from_codes && $1::text[] OR to_codes && $1::text[]
            ORDER BY effective DESC NULLS LAST, id DESC""", codes)
    return [dict(r) for r in rows]


async def records_around(conn: asyncpg.Connection, codes: list[str], day) -> dict[str, dict]:
    """Per code: its current records for periods ending before ``day`` and from it on, and the
    datasets they belong to (what a change dated ``day`` touches)."""
    rows = await conn.fetch(
        """SELECT r.region_code, count(*) FILTER (WHERE period_end(r.period) < $2) AS before,
                  count(*) FILTER (WHERE period_end(r.period) >= $2) AS after,
                  array_agg(DISTINCT d.slug) AS datasets
           FROM records r JOIN datasets d ON d.id = r.dataset_id
           WHERE r.region_code = ANY($1::text[]) AND r.status = 'current'
           GROUP BY r.region_code""", codes, day)
    return {r["region_code"]: {"before": r["before"], "after": r["after"],
                               "datasets": sorted(r["datasets"])} for r in rows}


async def keys_scoped_to(conn: asyncpg.Connection, codes: list[str]) -> list[dict]:
    """Publishers whose scope is one of ``codes`` or lies under one (their keys write there)."""
    rows = await conn.fetch(
        """SELECT id, name, region_scope FROM publishers
           WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) c
                         WHERE region_scope = c OR region_scope LIKE c || '.%')
           ORDER BY id""", codes)
    return [dict(r) for r in rows]


async def set_validity(conn: asyncpg.Connection, code: str, *, valid_from=None,
                       valid_until=None, successor: str | None = None) -> None:
    """Date a region's start or end (and its single successor): a new version."""
    await conn.execute(
        """UPDATE regions SET valid_from = coalesce($2, valid_from),
                  valid_until = coalesce($3, valid_until),
                  successor_code = coalesce($4, successor_code),
                  version = version + 1, updated_at = now() WHERE code = $1""",
        code, valid_from, valid_until, successor)


async def load_active_aliases(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT region_code, kind, alias FROM region_aliases WHERE status = 'active'")
    return [(r["region_code"], r["kind"], r["alias"]) for r in rows]


async def upsert_regions(conn: asyncpg.Connection, rows: list[dict]) -> int:
    """Insert or update regions (code, name, level, parent_code, path, valid_from)."""
    await conn.executemany(
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
    return len(rows)


async def insert_missing_regions(conn: asyncpg.Connection, rows: list[dict]) -> list[str]:
    """Insert the regions not yet known (never changes a known one: a rename or move is the
    walidata's, through the region import); returns the codes inserted."""
    got = await conn.fetch(
        """INSERT INTO regions (code, name, level, parent_code, path, valid_from)
           SELECT code, name, level, parent_code, path::text[], valid_from
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                       $6::date[]) AS n(code, name, level, parent_code, path, valid_from)
           ON CONFLICT (code) DO NOTHING RETURNING code""",
        [r["code"] for r in rows], [r["name"] for r in rows], [r["level"] for r in rows],
        [r["parent_code"] for r in rows], ["{" + ",".join(r["path"]) + "}" for r in rows],
        [r.get("valid_from") for r in rows])
    return [r["code"] for r in got]


async def differing_regions(conn: asyncpg.Connection, rows: list[dict]) -> list[str]:
    """Codes whose stored name, level or parent differ from ``rows`` (kept as they are)."""
    got = await conn.fetch(
        """SELECT g.code FROM regions g
           JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[])
                AS n(code, name, level, parent_code) ON n.code = g.code
           WHERE (g.name, g.level, g.parent_code) IS DISTINCT FROM
                 (n.name, n.level, n.parent_code)
           ORDER BY g.code""",
        [r["code"] for r in rows], [r["name"] for r in rows], [r["level"] for r in rows],
        [r["parent_code"] for r in rows])
    return [r["code"] for r in got]


async def add_aliases(conn: asyncpg.Connection, rows: list[dict]) -> list[dict]:
    """Insert aliases not yet known; returns the rows actually inserted. A region's aliases
    are part of what readers see of it, so each region given one is at a new version."""
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
    await bump_region_versions(conn, sorted({r["region_code"] for r in inserted}))
    return inserted


async def list_aliases(conn: asyncpg.Connection, *, region_code: str | None = None,
                       status: str | None = None) -> list[dict]:
    rows = await conn.fetch(
        """SELECT id, region_code, kind, alias, source, status, note, created_at
           FROM region_aliases
           WHERE ($1::text IS NULL OR region_code = $1) AND ($2::text IS NULL OR status = $2)
           ORDER BY region_code, kind, alias""", region_code, status)
    return [dict(r) for r in rows]


async def retire_region(conn: asyncpg.Connection, code: str, successor: str,
                        valid_until) -> None:
    await conn.execute(
        "UPDATE regions SET valid_until = $2, successor_code = $3, version = version + 1, "
        "updated_at = now() WHERE code = $1", code, valid_until, successor)


async def bump_region_versions(conn: asyncpg.Connection, codes: list[str]) -> None:
    """A new version for changes readers see that are not in the region row (its aliases):
    readers keep the newest version of a region, and two events of one version must be the
    same event, whichever JetStream delivers last."""
    if not codes:
        return
    await conn.execute("UPDATE regions SET version = version + 1, updated_at = now() "
                       "WHERE code = ANY($1::text[])", codes)


async def end_alias(conn: asyncpg.Connection, region_code: str, alias_norm: str, day) -> None:
    """A former name is the region's name until ``day``."""
    await conn.execute(
        "UPDATE region_aliases SET valid_until = $3 WHERE region_code = $1 AND alias_norm = $2 "
        "AND kind = 'former_name'", region_code, alias_norm, day)
    await bump_region_versions(conn, [region_code])


async def get_region(conn: asyncpg.Connection, code: str) -> dict | None:
    row = await conn.fetchrow(
        "SELECT code, name, level, parent_code, path, valid_from, valid_until, successor_code, "
        "version FROM regions WHERE code = $1", code)
    return dict(row) if row else None


async def region_children(conn: asyncpg.Connection, code: str) -> list[dict]:
    rows = await conn.fetch(
        "SELECT code, name, level, parent_code, valid_from, valid_until FROM regions "
        "WHERE parent_code = $1 ORDER BY code", code)
    return [dict(r) for r in rows]


async def all_regions(conn: asyncpg.Connection) -> list[dict]:
    rows = await conn.fetch(
        "SELECT code, name, level, parent_code, path, valid_from, valid_until, successor_code, "
        "version FROM regions ORDER BY code")
    return [dict(r) for r in rows]


async def aliases_by_region(conn: asyncpg.Connection) -> dict[str, list[str]]:
    rows = await conn.fetch(
        "SELECT region_code, array_agg(alias ORDER BY alias) AS aliases FROM region_aliases "
        "WHERE status = 'active' GROUP BY region_code")
    return {r["region_code"]: list(r["aliases"]) for r in rows}


ALIAS_COLUMNS = ("id, region_code, kind, alias, source, status, note, created_at, reviewed_by, "
                 "reviewed_at")


async def aliases_by_status(conn: asyncpg.Connection, status: str | None, limit: int,
                            after_id: int) -> list[dict]:
    rows = await conn.fetch(
        f"""SELECT {ALIAS_COLUMNS} FROM region_aliases
            WHERE ($1::text IS NULL OR status = $1) AND id > $2 ORDER BY id LIMIT $3""",
        status, after_id, limit)
    return [dict(r) for r in rows]


async def get_alias(conn: asyncpg.Connection, alias_id: int, *, lock: bool = False
                    ) -> dict | None:
    row = await conn.fetchrow(
        f"SELECT {ALIAS_COLUMNS} FROM region_aliases WHERE id = $1"
        + (" FOR UPDATE" if lock else ""), alias_id)
    return dict(row) if row else None


async def review_alias(conn: asyncpg.Connection, alias_id: int, status: str, reviewer: str,
                       note: str | None) -> dict:
    row = await conn.fetchrow(
        f"""UPDATE region_aliases SET status = $2, reviewed_by = $3, reviewed_at = now(),
                   note = coalesce($4, note)
            WHERE id = $1 RETURNING {ALIAS_COLUMNS}""", alias_id, status, reviewer, note)
    await bump_region_versions(conn, [row["region_code"]])
    return dict(row)


async def regions_named(conn: asyncpg.Connection, codes: list[str]) -> dict[str, dict]:
    rows = await conn.fetch(
        "SELECT code, name, level, valid_from, valid_until FROM regions "
        "WHERE code = ANY($1::text[])", codes)
    return {r["code"]: dict(r) for r in rows}


async def root_region(conn: asyncpg.Connection) -> str | None:
    return await conn.fetchval(
        "SELECT code FROM regions WHERE parent_code IS NULL OR level = 'kabupaten' "
        "ORDER BY cardinality(path), code LIMIT 1")
