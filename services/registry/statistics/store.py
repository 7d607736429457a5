"""SQL for aggregates and completeness: set-based over the region tree."""

from __future__ import annotations

from typing import Any

import asyncpg

from shared.sql import valid_on


# units: the regions at the dataset's levels, with their validity; a unit counts in a period
# when it is valid on the period's last day (``valid_on``)
_SUBTREE = """sub AS (SELECT code, path FROM regions WHERE path @> ARRAY[$1::text]),
           units AS (SELECT g.code, g.valid_from, g.valid_until FROM regions g
                     JOIN sub ON sub.code = g.code WHERE g.level = ANY($2::text[]))"""


_RECORDS = """records r JOIN sub ON sub.code = r.region_code
           WHERE r.dataset_id = $3 AND r.status = 'current' AND r.dims @> $4::jsonb
             AND ($5::text IS NULL OR r.period >= $5) AND ($6::text IS NULL OR r.period <= $6)"""


def _period_args(region: str, levels: list[str], dataset_id: int, dims: dict[str, str],
                 period_from: str | None, period_to: str | None) -> list[Any]:
    return [region, levels, dataset_id, dims, period_from, period_to]


async def aggregate_periods(conn: asyncpg.Connection, *, dataset_id: int, measures: list[str],
                            region: str, depth: int, levels: list[str], dims: dict[str, str],
                            period_from: str | None, period_to: str | None) -> list[dict]:
    """Per period and child of ``region`` (``child`` NULL for records on the region itself):
    each measure summed over current records, and how many units reported any of them.
    One scan, summed per region first (a hash aggregate of a few thousand groups), then per
    child: twice as fast as one row per record and measure at 450,000 records.

    Units are the regions at the dataset's levels valid in the period. Set-based: one pass over
    the dataset's records in the period range (records_dataset_period index) joined to the
    region tree by its ``path`` array.
    """
    sums = ", ".join(f"sum((r.vals ->> ${9 + i})::numeric) AS m{i}"
                     for i in range(len(measures)))
    rows = await conn.fetch(
        f"""WITH {_SUBTREE},
           per_region AS (
             SELECT r.period, r.region_code, {sums}
             FROM {_RECORDS} AND r.vals ?| $8::text[]
             GROUP BY 1, 2)
           SELECT p.period, sub.path[$7 + 1] AS child,
                  {", ".join(f"sum(p.m{i}) AS m{i}" for i in range(len(measures)))},
                  count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM units u WHERE u.code = p.region_code
                      AND {valid_on("u", "period_end(p.period)")})) AS reporting
           FROM per_region p JOIN sub ON sub.code = p.region_code
           GROUP BY 1, 2""",
        *_period_args(region, levels, dataset_id, dims, period_from, period_to), depth, measures,
        *measures)
    return [{"period": r["period"], "child": r["child"], "reporting": r["reporting"],
             "values": {m: r[f"m{i}"] for i, m in enumerate(measures)}} for r in rows]


async def expected_units(conn: asyncpg.Connection, *, region: str, depth: int,
                         levels: list[str]) -> list[dict]:
    """The units (regions at the dataset's levels) under each child, grouped by validity:
    (child, valid_from, valid_until, count), for the caller to count per period."""
    rows = await conn.fetch(
        f"""WITH {_SUBTREE}
           SELECT sub.path[$3 + 1] AS child, units.valid_from, units.valid_until,
                  count(*) AS expected
           FROM units JOIN sub ON sub.code = units.code GROUP BY 1, 2, 3""",
        region, levels, depth)
    return [dict(r) for r in rows]


async def values_per_region(conn: asyncpg.Connection, *, dataset_id: int, measures: list[str],
                            region: str, levels: list[str], dims: dict[str, str],
                            period_from: str | None, period_to: str | None) -> list[dict]:
    """The records themselves (region, dimensions, the measures' values), never summed: what
    a non-additive measure (a ratio, a percentage) can show across regions."""
    rows = await conn.fetch(
        f"""WITH {_SUBTREE}
           SELECT r.period, r.region_code, r.dims, r.vals,
                  EXISTS (SELECT 1 FROM units u WHERE u.code = r.region_code
                          AND {valid_on("u", "period_end(r.period)")}) AS is_unit
           FROM {_RECORDS} AND r.vals ?| $7::text[]
           ORDER BY r.period, r.region_code, r.dims_key""",
        *_period_args(region, levels, dataset_id, dims, period_from, period_to), measures)
    return [dict(r) for r in rows]


async def completeness_units(conn: asyncpg.Connection, *, dataset_id: int, period: str,
                             levels: list[str], region: str) -> list[dict]:
    """Every unit (region at the dataset's levels, valid in the period, under ``region``)
    with whether it has current records for the period and whether any of them has an open
    conflict."""
    rows = await conn.fetch(
        f"""SELECT g.code, g.name, g.level, coalesce(g.path[2], g.code) AS kecamatan,
                  count(r.id) > 0 AS reported, count(c.record_id) > 0 AS in_conflict
           FROM regions g
           LEFT JOIN records r ON r.dataset_id = $1 AND r.period = $2
                AND r.region_code = g.code AND r.status = 'current'
           LEFT JOIN LATERAL (SELECT record_id FROM conflicts
                              WHERE record_id = r.id AND status = 'open' LIMIT 1) c ON true
           WHERE g.path @> ARRAY[$4::text] AND g.level = ANY($3::text[])
             AND {valid_on("g", "period_end($2)")}
           GROUP BY g.code, g.name, g.level, g.path
           ORDER BY g.code""",
        dataset_id, period, levels, region)
    return [dict(r) for r in rows]


async def held_per_child(conn: asyncpg.Connection, *, dataset_id: int, region: str, depth: int,
                         levels: list[str], dims: dict[str, str], period_from: str | None,
                         period_to: str | None) -> list[dict]:
    """Values awaiting the walidata under ``region``, per period, child and region:
    the figures show those places at their last verified value, and say so."""
    rows = await conn.fetch(
        f"""WITH {_SUBTREE}
           SELECT h.period, sub.path[$7 + 1] AS child, h.region_code, h.dims,
                  count(*) AS held
           FROM held_values h JOIN sub ON sub.code = h.region_code
           WHERE h.dataset_id = $3 AND h.status = 'held' AND h.dims @> $4::jsonb
             AND ($5::text IS NULL OR h.period >= $5) AND ($6::text IS NULL OR h.period <= $6)
           GROUP BY 1, 2, 3, 4""",
        *_period_args(region, levels, dataset_id, dims, period_from, period_to), depth)
    return [dict(r) for r in rows]


async def sums_per_region(conn: asyncpg.Connection, *, dataset_id: int, codes: list[str],
                          measures: list[str], dims: dict[str, str],
                          period_from: str | None, period_to: str | None) -> list[dict]:
    """Each measure summed per (period, region) over current records of ``codes``."""
    sums = ", ".join(f"sum((r.vals ->> ${7 + i})::numeric) AS m{i}"
                     for i in range(len(measures)))
    rows = await conn.fetch(
        f"""SELECT r.period, r.region_code, {sums}
            FROM records r
            WHERE r.dataset_id = $1 AND r.region_code = ANY($2::text[]) AND r.status = 'current'
              AND r.dims @> $3::jsonb AND ($4::text IS NULL OR r.period >= $4)
              AND ($5::text IS NULL OR r.period <= $5) AND r.vals ?| $6::text[]
            GROUP BY 1, 2 ORDER BY 1, 2""",
        dataset_id, codes, dims, period_from, period_to, measures, *measures)
    return [{"period": r["period"], "region_code": r["region_code"],
             "values": {m: r[f"m{i}"] for i, m in enumerate(measures)}} for r in rows]
