"""Reporting calendar: period boundaries, due dates and up-to-dateness, no I/O. The registry's
timeliness (due dates, who is late, reminders) and search's ``?current=true`` both read it, so
"current" means the same everywhere.

A period is due at 23:59 WITA on the day ``grace_days`` after its last day (annual: 90 days,
semester and quarterly: 45, monthly: 15, unless the walidata sets another grace period).
"""

from __future__ import annotations

import calendar as _cal
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from shared.clock import WITA

# The shape of a period in each frequency (and an example for messages); a real period's year
# lies in YEARS (no 0000 or 9999).
PERIOD_PATTERNS = {
    "annual": (re.compile(r"^\d{4}$"), "2024"),
    "semester": (re.compile(r"^\d{4}-S[12]$"), "2024-S1"),
    "quarterly": (re.compile(r"^\d{4}-Q[1-4]$"), "2024-Q3"),
    "monthly": (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "2024-07"),
}
# Level words people write before or after a name, or in brackets. Desa and kelurahan are one
# tier: villages change status (Singa Geweh became a kelurahan) and staff keep the old word.
YEARS = range(1900, 2101)  # a real period: no year 0000 or 9999


def valid_period(frequency: str, period: str) -> bool:
    pattern, _ = PERIOD_PATTERNS[frequency]
    return bool(pattern.match(period)) and int(period[:4]) in YEARS



DEFAULT_GRACE_DAYS = {"annual": 90, "semester": 45, "quarterly": 45, "monthly": 15}
DUE_TIME = time(23, 59)
MONTHS_PER = {"annual": 12, "semester": 6, "quarterly": 3, "monthly": 1}


def _index(frequency: str, period: str) -> tuple[int, int]:
    """(year, 1-based part) of a period in its frequency's own format."""
    year = int(period[:4])
    if frequency == "annual":
        return year, 1
    return year, int(period[-1] if frequency != "monthly" else period[5:7])


def _format(frequency: str, year: int, part: int) -> str:
    return {"annual": f"{year}", "semester": f"{year}-S{part}", "quarterly": f"{year}-Q{part}",
            "monthly": f"{year}-{part:02d}"}[frequency]


def _shift(frequency: str, period: str, steps: int) -> str:
    year, part = _index(frequency, period)
    per_year = 12 // MONTHS_PER[frequency]
    n = year * per_year + (part - 1) + steps
    return _format(frequency, n // per_year, n % per_year + 1)


def in_force(valid_from, valid_until, day) -> bool:
    """Valid on ``day``: from ``valid_from`` (included) to ``valid_until`` (excluded, the
    first day it is no longer used); no date means always. Dates or ISO strings, one kind at a
    time. A region is in a period when it is in force on the period's last day (the SQL form is
    ``shared.sql.valid_on``)."""
    return ((valid_from is None or valid_from <= day)
            and (valid_until is None or day < valid_until))


def periods_in_year(frequency: str, year: int) -> list[str]:
    """Every period of ``year`` in the frequency's format: 2024; 2024-S1, 2024-S2; ..."""
    return [_format(frequency, year, part) for part in range(1, 12 // MONTHS_PER[frequency] + 1)]


def next_period(frequency: str, period: str) -> str:
    return _shift(frequency, period, 1)


def previous_period(frequency: str, period: str) -> str:
    return _shift(frequency, period, -1)


def period_containing(frequency: str, day: date) -> str:
    part = (day.month - 1) // MONTHS_PER[frequency] + 1
    return _format(frequency, day.year, part)


def period_end(frequency: str, period: str) -> date:
    year, part = _index(frequency, period)
    month = part * MONTHS_PER[frequency]
    return date(year, month, _cal.monthrange(year, month)[1])


def due_at(frequency: str, period: str, grace_days: int) -> datetime:
    """When the period is due: 23:59 WITA, ``grace_days`` after the period ends (UTC)."""
    day = period_end(frequency, period) + timedelta(days=grace_days)
    return datetime.combine(day, DUE_TIME, tzinfo=WITA).astimezone(timezone.utc)


def latest_due(frequency: str, grace_days: int, now: datetime) -> str:
    """The most recent period whose due date has passed at ``now``."""
    period = period_containing(frequency, now.astimezone(WITA).date())
    while due_at(frequency, period, grace_days) >= now:
        period = previous_period(frequency, period)
    return period


def upcoming(frequency: str, grace_days: int, now: datetime) -> str:
    """The next period to fall due after ``now``."""
    return next_period(frequency, latest_due(frequency, grace_days, now))


@dataclass(frozen=True)
class Currency:
    status: str  # "mutakhir" | "terlambat" | "belum_ada_data"
    label: str   # "mutakhir: 141 dari 141 desa", "terlambat 3 bulan: 12 desa belum melapor"
    expected_period: str  # the latest period that should be in by now
    latest_period: str | None
    days_late: int
    reported: int | None = None  # units with data for the expected period
    expected_units: int | None = None  # units that should have sent it (valid in the period)


@dataclass(frozen=True)
class Coverage:
    """How many units sent the expected period, of how many valid in it, and their word."""
    reported: int
    expected: int
    word: str = "desa"


def late_label(days: int) -> str:
    if days >= 30:
        return f"terlambat {days // 30} bulan"
    return f"terlambat {max(days, 1)} hari"


def first_due_after(frequency: str, grace_days: int, moment: datetime) -> str:
    """The earliest period whose due date falls after ``moment`` (a dataset created then
    owes nothing before it)."""
    period = period_containing(frequency, moment.astimezone(WITA).date())
    while due_at(frequency, previous_period(frequency, period), grace_days) > moment:
        period = previous_period(frequency, period)
    return period


def currency(frequency: str, grace_days: int, latest_period: str | None,
             now: datetime, created: datetime | None = None,
             coverage: Coverage | None = None) -> Currency:
    """Is the period that should be in by now in, from every unit that owes it? A dataset is
    late only for periods due after it was ``created`` (one created today with old data is
    current). With ``coverage`` (the units of the expected period) it is current only when
    every unit sent that period, and the label says how many did ("mutakhir: 141 dari 141
    desa", "terlambat 8 bulan: 140 desa belum melapor"); how late counts from the due date of
    the first period not complete. Without it, the newest period with data decides."""
    expected = latest_due(frequency, grace_days, now)
    owed_from = first_due_after(frequency, grace_days, created) if created else None
    if latest_period is None:
        return Currency("belum_ada_data", "belum ada data", expected, None, 0)
    counts = {} if coverage is None or coverage.expected == 0 else {
        "reported": coverage.reported, "expected_units": coverage.expected}
    complete = not counts or coverage.reported >= coverage.expected
    first_missing = next_period(frequency, latest_period)
    if latest_period >= expected and not complete:
        first_missing = expected  # the period is in, but not from every unit
    if owed_from is not None and owed_from > first_missing:
        first_missing = owed_from
    if first_missing > expected or (latest_period >= expected and complete):
        label = (f"mutakhir: {coverage.reported} dari {coverage.expected} {coverage.word}"
                 if counts and latest_period >= expected else "mutakhir")
        return Currency("mutakhir", label, expected, latest_period, 0, **counts)
    days = (now - due_at(frequency, first_missing, grace_days)).days + 1  # day 1 starts at once
    label = late_label(days)
    if counts:
        label += f": {coverage.expected - coverage.reported} {coverage.word} belum melapor"
    return Currency("terlambat", label, expected, latest_period, days, **counts)
