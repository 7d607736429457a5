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

from services.search import answer_store
from shared import reporting_calendar as calendar
from shared.clock import WITA, now  # noqa: F401  (now: the clock queries read)


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
    rows = await answer_store.datasets_for_currency(conn)
    due = {r["slug"]: calendar.latest_due(r["frequency"], calendar.DEFAULT_GRACE_DAYS[
        r["frequency"]], at) for r in rows if r["frequency"] in calendar.DEFAULT_GRACE_DAYS}
    covered = await answer_store.coverage(conn, [
        (r["slug"], due[r["slug"]], r["levels"] or "desa,kelurahan",
         calendar.period_end(r["frequency"], due[r["slug"]]).isoformat())
        for r in rows if r["slug"] in due])
    return [r["slug"] for r in rows
            if is_current(r["frequency"], r["newest"], at, r["created"], covered.get(r["slug"]))]
