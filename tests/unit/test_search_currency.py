"""When a dataset's newest period falls due (issue 16: annual 90 days after the year ends,
semester and quarterly 45, monthly 15; at 23:59 WITA)."""

from datetime import date, datetime, timedelta, timezone

from services.search.currency import WITA, day_of, due, is_current, period_end


def test_period_ends():
    assert period_end("2024") == date(2024, 12, 31)
    assert period_end("2024-S1") == date(2024, 6, 30)
    assert period_end("2024-Q1") == date(2024, 3, 31)
    assert period_end("2024-02") == date(2024, 2, 29)
    assert period_end("2024-13") is None and period_end("x") is None


def test_due_dates_by_frequency_at_2359_wita():
    assert due("annual", "2024") == datetime(2025, 3, 31, 23, 59, tzinfo=WITA)
    assert due("semester", "2024-S2") == datetime(2025, 2, 14, 23, 59, tzinfo=WITA)
    assert due("quarterly", "2024-Q3") == datetime(2024, 11, 14, 23, 59, tzinfo=WITA)
    assert due("monthly", "2024-05") == datetime(2024, 6, 15, 23, 59, tzinfo=WITA)
    assert due(None, "2024") is None and due("monthly", None) is None


def test_current_until_the_due_minute():
    deadline = due("monthly", "2024-05")
    assert is_current("monthly", "2024-05", deadline)
    assert not is_current("monthly", "2024-05", deadline + timedelta(seconds=1))
    assert not is_current(None, "2024-05", deadline - timedelta(days=30))
    # 23:59 WITA is 15:59 UTC: the answer's cache day turns then
    before = datetime(2024, 6, 15, 15, 58, tzinfo=timezone.utc)
    assert day_of(before) != day_of(before + timedelta(minutes=1))
