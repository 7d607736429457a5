"""SQL for policies, rules and held values; never commits (the caller owns the transaction)."""

from __future__ import annotations

import json
import uuid

import asyncpg

from shared.sql import Where, valid_on

DEFAULT_POLICY = {"policy": "langsung", "outliers": True, "outlier_z": 3.5, "min_history": 4,
                  "min_peers": 10, "updated_by": None, "updated_at": None}
POLICY_COLUMNS = "policy, outliers, outlier_z::float8 AS outlier_z, min_history, min_peers, " \
                 "updated_by, updated_at"
RULE_COLUMNS = "id, expression, importance, message, created_by, created_at, updated_at"


# --- policy and rules ---------------------------------------------------------------------

async def checks_of(conn: asyncpg.Connection, dataset_id: int) -> tuple[dict, list[dict]]:
    """The dataset's policy (the default when never set) and rules, in one round trip."""
    row = await conn.fetchrow(
        f"""SELECT (SELECT row_to_json(p) FROM (SELECT {POLICY_COLUMNS} FROM verification_policies
                    WHERE dataset_id = $1) p)::text AS policy,
                   (SELECT json_agg(r ORDER BY r.id) FROM (SELECT {RULE_COLUMNS}
                    FROM validation_rules WHERE dataset_id = $1) r)::text AS rules,
                   EXISTS (SELECT 1 FROM held_values WHERE dataset_id = $1
                           AND status = 'held') AS any_held""",
        dataset_id)
    policy = {**DEFAULT_POLICY, **json.loads(row["policy"])} if row["policy"] else \
        dict(DEFAULT_POLICY)
    policy["any_held"] = row["any_held"]  # whether a passing row may supersede a held one
    return policy, json.loads(row["rules"]) if row["rules"] else []


async def get_policy(conn: asyncpg.Connection, dataset_id: int) -> dict:
    row = await conn.fetchrow(
        f"SELECT {POLICY_COLUMNS} FROM verification_policies WHERE dataset_id = $1", dataset_id)
    return dict(row) if row else dict(DEFAULT_POLICY)


async def put_policy(conn: asyncpg.Connection, dataset_id: int, p: dict, by: str) -> dict:
    row = await conn.fetchrow(
        f"""INSERT INTO verification_policies AS v (dataset_id, policy, outliers, outlier_z,
                   min_history, min_peers, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (dataset_id) DO UPDATE SET policy = $2, outliers = $3, outlier_z = $4,
                   min_history = $5, min_peers = $6, updated_by = $7, updated_at = now()
            RETURNING {POLICY_COLUMNS}""",
        dataset_id, p["policy"], p["outliers"], p["outlier_z"], p["min_history"],
        p["min_peers"], by)
    return dict(row)


async def list_rules(conn: asyncpg.Connection, dataset_id: int) -> list[dict]:
    rows = await conn.fetch(f"SELECT {RULE_COLUMNS} FROM validation_rules WHERE dataset_id = $1 "
                            "ORDER BY id", dataset_id)
    return [dict(r) for r in rows]


async def insert_rule(conn: asyncpg.Connection, dataset_id: int, r: dict, by: str) -> dict:
    row = await conn.fetchrow(
        f"""INSERT INTO validation_rules (dataset_id, expression, importance, message, created_by)
            VALUES ($1, $2, $3, $4, $5) RETURNING {RULE_COLUMNS}""",
        dataset_id, r["expression"], r["importance"], r["message"], by)
    return dict(row)


async def update_rule(conn: asyncpg.Connection, dataset_id: int, rule_id: int, r: dict
                      ) -> dict | None:
    row = await conn.fetchrow(
        f"""UPDATE validation_rules SET expression = $3, importance = $4, message = $5,
                   updated_at = now() WHERE dataset_id = $1 AND id = $2 RETURNING {RULE_COLUMNS}""",
        dataset_id, rule_id, r["expression"], r["importance"], r["message"])
    return dict(row) if row else None


async def delete_rule(conn: asyncpg.Connection, dataset_id: int, rule_id: int) -> dict | None:
    row = await conn.fetchrow(f"DELETE FROM validation_rules WHERE dataset_id = $1 AND id = $2 "
                              f"RETURNING {RULE_COLUMNS}", dataset_id, rule_id)
    return dict(row) if row else None


# --- set-based checks of the staged chunk -------------------------------------------------

async def failing_rows(conn: asyncpg.Connection, sql: str, params: list) -> list[asyncpg.Record]:
    """Run a compiled rule query (built by rules_store.py; every value is a parameter)."""
    return await conn.fetch(sql, *params)


# --- held values --------------------------------------------------------------------------

def _feed(kind: str, changed: str = "changed") -> str:
    """The change feed's entry for each held value a data-modifying CTE ``changed`` returned
    (migration 0010): written by the statement that changes the hold, in change order."""
    return f"""INSERT INTO verification_events (held_id, kind, dataset_id, record_id,
                                                region_code, period, dims, publisher_id)
               SELECT id, {kind}, dataset_id, record_id, region_code, period, dims, publisher_id
               FROM {changed}"""


_RETURNING = "RETURNING h.id, h.dataset_id, h.record_id, h.region_code, h.period, h.dims, " \
             "h.publisher_id, h.status"

async def hold_staged(conn: asyncpg.Connection, dataset_id: int, held: list[tuple[int, dict]],
                      publisher_id: str, submission_id: uuid.UUID | None) -> None:
    """Store (or refresh) one held proposal per staged row; the master is not touched."""
    await conn.execute(
        """WITH changed AS (
           INSERT INTO held_values AS h (dataset_id, record_id, region_code, period, dims,
                   dims_key, vals, base_vals, publisher_id, submission_id, line, sheet, reasons)
           SELECT $1, r.id, i.region_code, i.period, i.dims, i.dims_key, i.vals, r.vals, $4, $5,
                  (x.place ->> 'line')::int, x.place ->> 'sheet', x.reasons
           FROM incoming i
           JOIN (SELECT (e ->> 'idx')::int AS idx, e -> 'reasons' AS reasons, e -> 'place' AS place
                 FROM jsonb_array_elements($2::text::jsonb) e) x ON x.idx = i.idx
           LEFT JOIN LATERAL (SELECT r.id, r.vals FROM records r
                WHERE r.dataset_id = $1 AND r.dims_key = i.dims_key
                  AND r.region_code = i.region_code AND r.period = i.period LIMIT 1) r ON true
           WHERE i.idx = ANY($3::int[])
           ON CONFLICT (dataset_id, region_code, period, dims_key, publisher_id)
              WHERE status = 'held'
           DO UPDATE SET vals = excluded.vals, base_vals = excluded.base_vals,
                  record_id = excluded.record_id, submission_id = excluded.submission_id,
                  line = excluded.line, sheet = excluded.sheet, reasons = excluded.reasons,
                  created_at = now()
           """ + _RETURNING + ") " + _feed("'held'"),
        dataset_id, json.dumps([{"idx": i, **h} for i, h in held], default=str),
        [i for i, _ in held], publisher_id, submission_id)


async def supersede_passed(conn: asyncpg.Connection, dataset_id: int, idxs: list[int],
                           publisher_id: str) -> None:
    """A publisher's newer value for a key that passes replaces its own held proposal."""
    if idxs:
        await conn.execute(
            """WITH found AS (  -- probes from the staged rows: never a scan of held_values
               SELECT x.id FROM incoming i CROSS JOIN LATERAL (
                 SELECT h.id FROM held_values h
                 WHERE h.dataset_id = $1 AND h.region_code = i.region_code
                   AND h.period = i.period AND h.dims_key = i.dims_key
                   AND h.publisher_id = $3 AND h.status = 'held' LIMIT 1) x
               WHERE i.idx = ANY($2::int[])),
             changed AS (
               UPDATE held_values h SET status = 'superseded', decided_at = now(),
                      note = 'diganti nilai yang lebih baru dari produsen yang sama'
               WHERE h.id = ANY(ARRAY(SELECT id FROM found))
               """ + _RETURNING + ") " + _feed("'superseded'"),
            dataset_id, idxs, publisher_id)


HELD_SELECT = """SELECT h.id, d.slug AS dataset, h.dataset_id, h.record_id, h.region_code,
       g.name AS region_name, g.level AS region_level, coalesce(g.path[2], g.code) AS kecamatan,
       h.period, h.dims, h.dims_key, h.vals, r.vals AS public_vals, h.base_vals,
       h.publisher_id, p.name AS publisher_name, h.submission_id, h.line, h.sheet, h.reasons,
       h.status, h.note, h.decided_by, h.decided_at, h.created_at,
       (SELECT c.id FROM conflicts c WHERE c.record_id = h.record_id AND c.status = 'open'
          AND c.proposed_publisher = h.publisher_id LIMIT 1) AS conflict_id
FROM held_values h JOIN datasets d ON d.id = h.dataset_id
JOIN regions g ON g.code = h.region_code
LEFT JOIN records r ON r.id = h.record_id
LEFT JOIN publishers p ON p.id = h.publisher_id"""


def _held_where(f: dict) -> Where:
    where = Where()
    for column, key in (("h.dataset_id", "dataset_id"), ("h.period", "period"),
                        ("h.status", "status"), ("h.publisher_id", "publisher_id"),
                        ("h.submission_id", "submission_id"), ("h.record_id", "record_id")):
        if f.get(key) is not None:
            where.add(f"{column} = {{}}", f[key])
    if f.get("kecamatan"):
        where.add("{} = ANY(g.path)", f["kecamatan"])
    if f.get("ids"):
        where.add("h.id = ANY({}::uuid[])", f["ids"])
    return where


async def list_held(conn: asyncpg.Connection, filters: dict, after: tuple | None, limit: int
                    ) -> list[dict]:
    """Oldest first, keyset on (created_at, id)."""
    where = _held_where(filters)
    if after:
        where.add("(h.created_at, h.id) > ({}::timestamptz, {}::uuid)", *after)
    rows = await conn.fetch(
        f"""{HELD_SELECT} {where.sql}
            ORDER BY h.created_at, h.id LIMIT {where.param(limit)}""", *where.args)
    return [dict(r) for r in rows]


async def lock_held(conn: asyncpg.Connection, filters: dict, limit: int) -> list[dict]:
    """The held values a decision covers, locked until the caller commits."""
    where = _held_where({**filters, "status": "held"})
    rows = await conn.fetch(
        f"""{HELD_SELECT} {where.sql}
            ORDER BY h.created_at, h.id LIMIT {where.param(limit)} FOR UPDATE OF h""",
        *where.args)
    return [dict(r) for r in rows]


async def decide(conn: asyncpg.Connection, ids: list[uuid.UUID], status: str, by: str,
                 note: str | None, records: dict[uuid.UUID, uuid.UUID]) -> None:
    await conn.execute(
        """WITH changed AS (
           UPDATE held_values h SET status = $2, decided_by = $3, note = $4,
                  decided_at = now(),
                  record_id = coalesce(h.record_id, (($5::text::jsonb) ->> h.id::text)::uuid)
           WHERE h.id = ANY($1::uuid[])
           """ + _RETURNING + ") " + _feed("status"),
        ids, status, by, note, json.dumps({str(k): str(v) for k, v in records.items()}))


async def return_with_record(conn: asyncpg.Connection, record_id: uuid.UUID, by: str,
                             note: str) -> int:
    """A retracted record's open proposals go back to their publishers: verifying one later
    would otherwise make the withdrawn record current again."""
    return int((await conn.execute(
        """WITH changed AS (
           UPDATE held_values h SET status = 'returned', decided_by = $2, note = $3,
                  decided_at = now(), record_id = r.id
           FROM records r
           WHERE r.id = $1 AND h.status = 'held'
             AND (h.record_id = r.id OR (h.dataset_id = r.dataset_id AND
                  h.region_code = r.region_code AND h.period = r.period AND
                  h.dims_key = r.dims_key))
           """ + _RETURNING + ") " + _feed("'returned'"), record_id, by, note)).split()[-1])


async def reporting(conn: asyncpg.Connection, dataset_id: int, period: str, levels: list[str],
                    kecamatan: list[str]) -> dict[str, dict]:
    """Per kecamatan: units expected, reporting now (a current record) and after releasing
    what is held (a held value counts as reported, unverified)."""
    rows = await conn.fetch(
        f"""SELECT u.kec, count(*) AS expected, count(*) FILTER (WHERE u.reported) AS now,
                  count(*) FILTER (WHERE u.reported OR u.held) AS after
           FROM (SELECT coalesce(g.path[2], g.code) AS kec,
                   EXISTS (SELECT 1 FROM records r WHERE r.dataset_id = $1 AND r.period = $2
                           AND r.region_code = g.code AND r.status = 'current') AS reported,
                   EXISTS (SELECT 1 FROM held_values h WHERE h.dataset_id = $1
                           AND h.period = $2 AND h.region_code = g.code
                           AND h.status = 'held') AS held
                 FROM regions g WHERE g.level = ANY($3::text[])
                   AND coalesce(g.path[2], g.code) = ANY($4::text[])
                   AND {valid_on("g", "period_end($2)")}) u
           GROUP BY u.kec""", dataset_id, period, levels, kecamatan)
    return {r["kec"]: dict(r) for r in rows}


async def held_regions(conn: asyncpg.Connection, dataset_id: int, period: str) -> set[str]:
    rows = await conn.fetch("SELECT DISTINCT region_code FROM held_values WHERE dataset_id = $1 "
                            "AND period = $2 AND status = 'held'", dataset_id, period)
    return {r["region_code"] for r in rows}


# The outlier check's read: $1 dataset, $2 measures, $3 staged rows, $4 min_history, $5 peers
# read per group, $6 the latest earlier periods read (outliers.HISTORY_PERIODS). Each staged
# value with its history; the rows with fewer than $4 earlier periods also with their peers
# (one sample per period, item, level and measure). One round trip per chunk.
_VALUES_HISTORY_PEERS = """
WITH h AS MATERIALIZED (
  SELECT i.idx, m.name AS measure, (i.vals ->> m.name)::float8 AS v, i.period, i.dims_key,
         g.level, e.earlier
  FROM incoming i CROSS JOIN unnest($2::text[]) AS m(name)
  JOIN regions g ON g.code = i.region_code
  CROSS JOIN LATERAL (
    SELECT array_agg(x.v) AS earlier FROM (
      SELECT (r.vals ->> m.name)::float8 AS v FROM records r
      WHERE r.dataset_id = $1 AND r.dims_key = i.dims_key AND r.region_code = i.region_code
        AND r.period < i.period AND r.status = 'current'
        AND jsonb_typeof(r.vals -> m.name) = 'number'
      ORDER BY r.period DESC LIMIT $6) x) e
  WHERE i.idx = ANY($3::int[]) AND jsonb_typeof(i.vals -> m.name) = 'number'),
q AS (SELECT DISTINCT period, dims_key, level, measure FROM h
      WHERE coalesce(cardinality(earlier), 0) < $4),
lv AS MATERIALIZED (SELECT jsonb_object_agg(code, level) AS m FROM regions
                    WHERE level IN (SELECT level FROM q)),
p AS (
  SELECT q.*, s.peers FROM lv, q CROSS JOIN LATERAL (
    SELECT array_agg(x.v) AS peers FROM (
      SELECT (r.vals ->> q.measure)::float8 AS v FROM records r
      WHERE r.dataset_id = $1 AND r.dims_key = q.dims_key AND r.period = q.period
        AND r.status = 'current' AND jsonb_typeof(r.vals -> q.measure) = 'number'
        AND lv.m ->> r.region_code = q.level
      LIMIT $5) x) s)
SELECT h.idx, h.measure, h.v, h.earlier, p.peers
FROM h LEFT JOIN p USING (period, dims_key, level, measure)"""


async def values_history_peers(conn: asyncpg.Connection, dataset_id, measures: list[str],
                               idxs: list[int], min_history: int, peers: int,
                               periods: int) -> list[asyncpg.Record]:
    """The outlier check's one read per chunk (see ``verification/outliers.py``)."""
    return await conn.fetch(_VALUES_HISTORY_PEERS, dataset_id, measures, idxs, min_history,
                            peers, periods)
