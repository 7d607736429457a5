"""Dates and times as people write them, for every date parameter of every service.

Accepted: an ISO date (``2026-11-28``), the day-first forms used in Indonesia (``28-11-2026``,
``28/11/2026``, ``28 November 2026``, ``28 Nov 2026``), and an ISO datetime with or without a
zone. A date alone means the end of that day; a time without a zone is Kutai Timur's time,
WITA (UTC+8). Anything else raises ``Unprocessable`` (422) in the one error shape, naming the
parameter, so no input reaches a comparison of naive and aware datetimes (a 500).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from shared.errors import Unprocessable

WITA = timezone(timedelta(hours=8), "WITA")
MONTHS = {name: number for number, names in enumerate([
    ("januari", "jan", "january"), ("februari", "feb", "february"), ("maret", "mar", "march"),
    ("april", "apr"), ("mei", "may"), ("juni", "jun", "june"), ("juli", "jul", "july"),
    ("agustus", "agu", "ags", "aug", "august"), ("september", "sep", "sept"),
    ("oktober", "okt", "oct", "october"), ("november", "nov"),
    ("desember", "des", "dec", "december")], start=1) for name in names}
_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_WORDS = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})")
END_OF_DAY = time(23, 59, 59, 999999)


def _refuse(name: str, raw: str) -> Unprocessable:
    return Unprocessable(
        f"Tanggal '{raw}' pada {name} tidak dikenali. Tulis 2026-11-28, 28-11-2026, 28/11/2026, "
        "28 November 2026, atau tanggal dan jam 2026-11-28T10:00 (tanpa zona = WITA, UTC+8).",
        code="invalid_date",
        details=[{"field": name, "value": raw,
                  "accepted": ["2026-11-28", "28-11-2026", "28/11/2026", "28 November 2026",
                               "2026-11-28T10:00", "2026-11-28T10:00+07:00"]}])


def parse_date(raw: str) -> date | None:
    """The calendar date written in ``raw`` (ISO or day first), or None."""
    text = raw.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        if match := _DAY_FIRST.fullmatch(text):
            day, month, year = (int(x) for x in match.groups())
            return date(year, month, day)
        if (match := _WORDS.fullmatch(text)) and match.group(2).lower() in MONTHS:
            return date(int(match.group(3)), MONTHS[match.group(2).lower()],
                        int(match.group(1)))
    except ValueError:  # 31-02-2026
        return None
    return None


def parse_instant(raw: str | None, name: str = "tanggal") -> datetime | None:
    """An aware datetime for a date parameter; a date alone is the end of that day (WITA)."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        raise _refuse(name, str(raw))
    day = parse_date(text)
    if day is not None:
        return datetime.combine(day, END_OF_DAY, WITA)
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", text):
        raise _refuse(name, text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise _refuse(name, text) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=WITA)
