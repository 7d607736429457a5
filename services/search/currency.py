"""`?current=true`: the datasets current for their frequency.

"Current" is the registry's meaning (``shared.reporting_calendar.currency``): every unit valid
in the latest period already due (due 23:59 WITA, the grace period after the period ends:
annual 90 days, semester and quarterly 45, monthly 15) sent it, and a dataset owes nothing
due before it was created. Search knows the frequency, the unit levels and the creation time
from dataset events, the regions and their validity from region events, and who sent what
from the records it indexes; it uses the default grace periods (a walidata's own grace period
lives in the registry and is not in the events).
"Now" is the one clock (``shared.clock``), so tests can stand after a due date.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from shared import reporting_calendar as calendar
from shared.clock import WITA, now  # noqa: F401  (now: the clock queries read)
from shared.sql import valid_on


def is_current(frequency: str | None, newest: str | None, at: datetime,
               created: str | None = None,
               coverage: calendar.Coverage | None = None) -> bool:
    grace = calendar.DEFAULT_GRACE_DAYS.get(frequency or "")
    if grace is None or not newest:
        return False
    try:  # a period in its frequency's own format only ("2024", "2024-S1", "2024-Q3", "2024-05")
        if calendar.previous_period(frequency, calendar.next_period(frequency, newest)) != newest:
            return False
        born = datetime.fromisoformat(created) if created else None
        return calendar.currency(frequency, grace, newest, at, born,
                                 coverage).status == "mutakhir"
    except (ValueError, KeyError, IndexError):  # a period not in its frequency's format
        return False


def day_of(at: datetime) -> str:
    """Currency changes only at 23:59 WITA: answers may be cached per such day."""
    return (at.astimezone(WITA) + timedelta(minutes=1)).date().isoformat()


async def current_datasets(conn: asyncpg.Connection, at: datetime) -> list[str]:
    rows = await conn.fetch("""
        SELECT s.slug, s.payload->>'frequency' AS frequency,
               s.payload->>'created_at' AS created,
               coalesce(array_to_string(ARRAY(SELECT jsonb_array_elements_text(
                   s.payload->'schema'->'region_levels')), ','), 'desa,kelurahan') AS levels,
               (SELECT max(d.period) FROM documents d WHERE d.dataset = s.slug) AS newest
        FROM datasets s ORDER BY s.slug""")
    due = {r["slug"]: calendar.latest_due(r["frequency"], calendar.DEFAULT_GRACE_DAYS[
        r["frequency"]], at) for r in rows if r["frequency"] in calendar.DEFAULT_GRACE_DAYS}
    covered = await _coverage(conn, [
        (r["slug"], due[r["slug"]], r["levels"] or "desa,kelurahan",
         calendar.period_end(r["frequency"], due[r["slug"]]).isoformat())
        for r in rows if r["slug"] in due])
    return [r["slug"] for r in rows
            if is_current(r["frequency"], r["newest"], at, r["created"], covered.get(r["slug"]))]


async def _coverage(conn: asyncpg.Connection, wanted: list[tuple[str, str, str, str]]
                    ) -> dict[str, calendar.Coverage]:
    """Per (dataset, period due, unit levels, the period's last day): units that sent the
    period, of those valid on its last day (the registry's rule, over search's copies)."""
    if not wanted:
        return {}
    rows = await conn.fetch(
        f"""SELECT w.slug,
                   (SELECT count(DISTINCT d.region_code) FROM documents d
                    JOIN regions g ON g.code = d.region_code
                    WHERE d.kind = 'record' AND d.dataset = w.slug AND d.period = w.period
                      AND g.level = ANY(string_to_array(w.levels, ','))
                      AND {valid_on("g", "w.day")}) AS reported,
                   (SELECT count(*) FROM regions g
                    WHERE g.level = ANY(string_to_array(w.levels, ','))
                      AND {valid_on("g", "w.day")}) AS expected
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                 AS w(slug, period, levels, day)""",
        *([w[i] for w in wanted] for i in range(4)))
    return {r["slug"]: calendar.Coverage(r["reported"], r["expected"]) for r in rows}

