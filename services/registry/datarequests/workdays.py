"""Working days for a data request's answer (UU No. 14 Tahun 2008, Pasal 22 ayat (7) and (8)):
Monday to Friday, not a national holiday of Indonesia (the ``holidays`` package, kept up to
date upstream) and not a collective leave day (cuti bersama) the walidata entered. Pure."""

from __future__ import annotations

from datetime import date, timedelta

import holidays

ANSWER_DAYS = 10  # ayat (7): at most 10 working days after the request was received
EXTENSION_DAYS = 7  # ayat (8): extendable once by at most 7 working days, with written notice


def is_working_day(day: date, leave: set[date]) -> bool:
    return (day.weekday() < 5 and day not in holidays.country_holidays("ID", years=day.year)
            and day not in leave)


def add_working_days(start: date, count: int, leave: set[date]) -> date:
    """The ``count``-th working day after ``start`` (the day of receipt is not counted)."""
    day, seen = start, 0
    while seen < count:
        day += timedelta(days=1)
        seen += is_working_day(day, leave)
    return day
