"""Search's `?current=true` means what the registry's timeliness means: the newest period with
data is at least the latest period already due (annual 90 days after the year ends, semester
and quarterly 45, monthly 15; at 23:59 WITA)."""

from datetime import datetime, timedelta, timezone

from services.search.currency import WITA, day_of, is_current
from shared import reporting_calendar as calendar


def test_current_until_the_next_period_falls_due():
    # May's data is current through June's due date (15 July 23:59 WITA), not a minute longer
    june_due = calendar.due_at("monthly", "2024-06", 15)
    assert june_due == datetime(2024, 7, 15, 23, 59, tzinfo=WITA)
    assert is_current("monthly", "2024-05", june_due)
    assert not is_current("monthly", "2024-05", june_due + timedelta(seconds=1))
    assert is_current("monthly", "2024-06", june_due + timedelta(seconds=1))


def test_annual_data_of_last_year_is_current_until_this_years_falls_due():
    at = datetime(2026, 11, 28, tzinfo=timezone.utc)
    assert is_current("annual", "2025", at)       # 2026's data is due 2027-03-31
    assert not is_current("annual", "2024", at)   # 2025's fell due 2026-03-31


def test_unknown_frequency_or_period_is_not_current():
    at = datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert not is_current(None, "2024-05", at)
    assert not is_current("monthly", None, at)
    assert not is_current("monthly", "bukan-periode", at)


def test_the_cache_day_turns_at_2359_wita():
    before = datetime(2024, 6, 15, 15, 58, tzinfo=timezone.utc)  # 23:58 WITA
    assert day_of(before) != day_of(before + timedelta(minutes=1))
