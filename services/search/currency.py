"""`?current=true`: the datasets whose newest period is not past its due date.

A period is due some days after it ends, by the dataset's frequency (annual 90 days, semester
and quarterly 45, monthly 15), at 23:59 WITA. Search knows the frequency from dataset events
and the newest period from the records it indexes; currency is computed at query time.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone

import asyncpg

WITA = timezone(timedelta(hours=8))
GRACE_DAYS = {"annual": 90, "semester": 45, "quarterly": 45, "monthly": 15}
DUE_AT = time(23, 59)
PERIOD = re.compile(r"(\d{4})(?:-(?:(\d{2})|S([12])|Q([1-4])))?")


def now() -> datetime:
    """The one clock search reads."""
    return datetime.now(timezone.utc)


def period_end(period: str) -> date | None:
    """The last day of a period: 2024, 2024-S1, 2024-Q3, 2024-05."""
    m = PERIOD.fullmatch(period or "")
    if not m:
        return None
    month = (int(m[2]) if m[2] else 6 * int(m[3]) if m[3] else 3 * int(m[4]) if m[4] else 12)
    if not 1 <= month <= 12:
        return None
    year = int(m[1])
    return date(year, month, calendar.monthrange(year, month)[1])


def due(frequency: str | None, period: str | None) -> datetime | None:
    end, grace = period_end(period or ""), GRACE_DAYS.get(frequency or "")
    if end is None or grace is None:
        return None
    return datetime.combine(end + timedelta(days=grace), DUE_AT, WITA)


def is_current(frequency: str | None, newest: str | None, at: datetime) -> bool:
    deadline = due(frequency, newest)
    return deadline is not None and at <= deadline


def day_of(at: datetime) -> str:
    """Currency changes only at 23:59 WITA: answers may be cached per such day."""
    return (at.astimezone(WITA) + timedelta(minutes=1)).date().isoformat()


async def current_datasets(conn: asyncpg.Connection, at: datetime) -> list[str]:
    rows = await conn.fetch("""
        SELECT s.slug, s.payload->>'frequency' AS frequency,
               (SELECT max(d.period) FROM documents d WHERE d.dataset = s.slug) AS newest
        FROM datasets s ORDER BY s.slug""")
    return [r["slug"] for r in rows if is_current(r["frequency"], r["newest"], at)]
