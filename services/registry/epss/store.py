"""SQL for the EPSS evidence and self-assessment. Functions never commit (the caller owns the
transaction)."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def corrections(conn: asyncpg.Connection, start: datetime, end: datetime
                      ) -> dict[str, tuple[int, int]]:
    """Per dataset: record versions after the first recorded in [start, end), and how many of
    them carry a reason (a yearly report: it reads the year's versions once)."""
    rows = await conn.fetch(
        """SELECT d.slug, count(*) AS corrections,
                  count(*) FILTER (WHERE nullif(v.reason, '') IS NOT NULL) AS with_reason
           FROM record_versions v JOIN records r ON r.id = v.record_id
           JOIN datasets d ON d.id = r.dataset_id
           WHERE v.version > 1 AND v.recorded_at >= $1 AND v.recorded_at < $2
           GROUP BY d.slug""", start, end)
    return {r["slug"]: (r["corrections"], r["with_reason"]) for r in rows}


async def assessments(conn: asyncpg.Connection, year: int) -> list[dict]:
    rows = await conn.fetch(
        "SELECT indicator, level, note, evidence, assessed_by, assessed_at "
        "FROM epss_assessments WHERE year = $1 ORDER BY indicator", year)
    return [dict(r) for r in rows]


async def assess(conn: asyncpg.Connection, year: int, item: dict, by: str) -> None:
    await conn.execute(
        """INSERT INTO epss_assessments (year, indicator, level, note, evidence, assessed_by)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (year, indicator) DO UPDATE SET level = excluded.level,
             note = excluded.note, evidence = excluded.evidence,
             assessed_by = excluded.assessed_by, assessed_at = now()""",
        year, item["indicator"], item["level"], item.get("note"), item.get("evidence"), by)


async def replace_plan(conn: asyncpg.Connection, year: int, items: list[dict], by: str) -> None:
    await conn.execute("DELETE FROM data_plan WHERE year = $1", year)
    await conn.executemany(
        """INSERT INTO data_plan (year, title, producer, walidata, frequency, datasets, note,
                                  created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        [(year, i["title"], i["producer"], i["walidata"], i["frequency"], i["datasets"],
          i.get("note"), by) for i in items])


async def plan(conn: asyncpg.Connection, year: int) -> list[dict]:
    rows = await conn.fetch(
        "SELECT id, title, producer, walidata, frequency, datasets, note FROM data_plan "
        "WHERE year = $1 ORDER BY id", year)
    return [dict(r) for r in rows]
