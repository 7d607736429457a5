"""The reporting calendar, the test clock and the webhook signature, without I/O."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks.webhooks import Webhook

from services.registry.timeliness import reminders, service
from shared import reporting_calendar as calendar
from services.registry.timeliness.delivery import webhook_headers
from shared import clock
from shared.clock import WITA

UTC = timezone.utc


def test_due_dates_follow_the_frequency_and_fall_at_2359_wita():
    assert calendar.due_at("annual", "2025", 90) == datetime(2026, 3, 31, 15, 59, tzinfo=UTC)
    assert calendar.due_at("quarterly", "2026-Q1", 45).astimezone(clock.WITA).isoformat() \
        .startswith("2026-05-15T23:59")
    assert calendar.due_at("semester", "2026-S2", 45).date().isoformat() == "2027-02-14"
    assert calendar.due_at("monthly", "2026-02", 15).astimezone(clock.WITA).date() \
        .isoformat() == "2026-03-15"


def test_the_latest_due_period_changes_one_minute_after_the_due_time():
    due = calendar.due_at("annual", "2025", 90)
    assert calendar.latest_due("annual", 90, due) == "2024"
    assert calendar.latest_due("annual", 90, due + timedelta(minutes=1)) == "2025"
    assert calendar.upcoming("annual", 90, due + timedelta(minutes=1)) == "2026"


@pytest.mark.parametrize("frequency,period,after", [
    ("annual", "2025", "2026"), ("semester", "2025-S2", "2026-S1"),
    ("quarterly", "2025-Q4", "2026-Q1"), ("monthly", "2025-12", "2026-01")])
def test_periods_roll_over_the_year(frequency, period, after):
    assert calendar.next_period(frequency, period) == after
    assert calendar.previous_period(frequency, after) == period


def test_currency_says_mutakhir_or_how_many_months_late():
    now = datetime(2026, 7, 1, tzinfo=UTC)
    assert calendar.currency("annual", 90, "2025", now).label == "mutakhir"
    late = calendar.currency("annual", 90, "2024", now)
    assert late.status == "terlambat" and late.label == "terlambat 3 bulan"
    assert calendar.currency("monthly", 15, None, now).label == "belum ada data"
    assert calendar.late_label(12) == "terlambat 12 hari"


def test_unit_status_tells_on_time_late_missing_and_not_yet_due():
    due = datetime(2026, 3, 31, 15, 59, tzinfo=UTC)
    before, after = due - timedelta(days=2), due + timedelta(days=10)
    assert service.unit_status(before, due, after) == ("on_time", 0)
    assert service.unit_status(after, due, after) == ("late", 11)
    assert service.unit_status(None, due, after) == ("missing", 11)
    assert service.unit_status(None, due, before) == ("not_yet_due", 0)


def test_reminder_stage_is_the_nearest_point_reached():
    due = datetime(2026, 3, 31, 15, 59, tzinfo=UTC)
    assert reminders.stage_for(due, due - timedelta(days=8), [7, 1]) is None
    assert reminders.stage_for(due, due - timedelta(days=6), [7, 1])[0] == "before_7d"
    assert reminders.stage_for(due, due - timedelta(hours=3), [7, 1])[0] == "before_1d"
    assert reminders.stage_for(due, due + timedelta(hours=3), [7, 1]) == ("overdue", 1)


def test_most_local_publisher_is_responsible():
    pubs = [{"id": "opd", "kind": "opd", "region_scope": "64.08", "datasets": ["d"]},
            {"id": "desa", "kind": "desa", "region_scope": "64.08.04.2001", "datasets": ["d"]},
            {"id": "wali", "kind": "walidata", "region_scope": "64.08", "datasets": ["*"]}]
    assert service.responsible(pubs, "d", ["64.08", "64.08.04", "64.08.04.2001"])["id"] == "desa"
    assert service.responsible(pubs, "d", ["64.08", "64.08.04", "64.08.04.2002"])["id"] == "opd"
    assert service.responsible(pubs, "x", ["64.08", "64.08.04", "64.08.04.2002"]) is None


def test_webhook_signature_matches_the_standard_webhooks_test_vector():
    # the vector published with the Standard Webhooks specification
    headers = webhook_headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                              "msg_p5jXN8AQM9LWM0D4loKWxJek", '{"test": 2432232314}',
                              datetime.fromtimestamp(1614265330, UTC))
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-timestamp"] == "1614265330"


def test_webhook_signature_verifies_and_a_changed_body_does_not():
    secret = "whsec_" + "c2VjcmV0LWZvci10ZXN0cy0xMjM0NTY3ODkw"
    headers = webhook_headers(secret, "msg_1", '{"a":1}')
    Webhook(secret).verify('{"a":1}', headers)
    with pytest.raises(Exception):
        Webhook(secret).verify('{"a":2}', headers)


def test_test_clock_needs_the_testing_flag(monkeypatch):
    monkeypatch.setenv("SATUDATA_NOW", "2027-04-02T08:00")
    monkeypatch.delenv("SATUDATA_TESTING", raising=False)
    with pytest.raises(clock.ClockMisconfigured):
        clock.now()
    monkeypatch.setenv("SATUDATA_TESTING", "1")
    assert clock.now() == datetime(2027, 4, 2, 0, 0, tzinfo=UTC)  # 08:00 WITA
    monkeypatch.delenv("SATUDATA_NOW")
    assert clock.now().year >= 2026


def test_a_dataset_is_late_only_for_periods_due_after_it_was_created():
    """Created today with 2023's data loaded, an annual dataset owes 2026 first (2025 fell
    due on 31 March 2026, before it existed): it is current, not 'terlambat 250 hari'."""
    today = datetime(2026, 12, 6, 10, 0, tzinfo=WITA)
    assert calendar.first_due_after("annual", 90, today) == "2026"
    fresh = calendar.currency("annual", 90, "2023", today, created=today)
    assert (fresh.status, fresh.days_late) == ("mutakhir", 0)
    old = calendar.currency("annual", 90, "2023", today)  # no creation date: as before
    assert old.status == "terlambat" and old.days_late > 600
    # created within 2025's grace: 2025 is owed, and late once its due date passes
    created = datetime(2026, 2, 1, tzinfo=WITA)
    assert calendar.first_due_after("annual", 90, created) == "2025"
    late = calendar.currency("annual", 90, "2023", today, created=created)
    assert late.status == "terlambat" and late.label == "terlambat 8 bulan"
    # monthly, created on 10 June: May is due 15 June, so it is owed
    june = datetime(2026, 6, 10, tzinfo=WITA)
    assert calendar.first_due_after("monthly", 15, june) == "2026-05"


def test_up_to_date_only_when_every_unit_sent_the_period_due_and_the_label_says_how_many():
    """One village's report of 2025 does not make a dataset current while 140 owe it."""
    now = datetime(2026, 12, 6, 10, 0, tzinfo=WITA)  # 2025 fell due 2026-03-31
    full = calendar.currency("annual", 90, "2025", now, coverage=calendar.Coverage(141, 141))
    assert (full.status, full.label) == ("mutakhir", "mutakhir: 141 dari 141 desa")
    one = calendar.currency("annual", 90, "2025", now, coverage=calendar.Coverage(1, 141))
    assert one.status == "terlambat"
    assert one.label == "terlambat 8 bulan: 140 desa belum melapor"
    assert (one.reported, one.expected_units) == (1, 141)
    none = calendar.currency("annual", 90, "2023", now, coverage=calendar.Coverage(0, 141))
    assert none.label.endswith(": 141 desa belum melapor") and none.days_late > one.days_late
    # nothing owed since the dataset was created: current, whatever the units sent
    born = calendar.currency("annual", 90, "2023", now, created=now,
                             coverage=calendar.Coverage(0, 141))
    assert (born.status, born.label) == ("mutakhir", "mutakhir")
