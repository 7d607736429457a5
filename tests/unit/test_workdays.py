"""A data request's due date in working days (UU 14/2008 Pasal 22 (7)-(8)): weekends, national
holidays (the ``holidays`` package) and the walidata's collective leave days are skipped."""

from datetime import date

from services.registry.datarequests.workdays import (ANSWER_DAYS, EXTENSION_DAYS,
                                                     add_working_days, is_working_day)


def test_ten_working_days_skip_the_weekend_and_independence_and_the_prophets_birthday():
    # received Friday 14 August 2026: 17 August (Monday) and 25 August are national holidays
    due = add_working_days(date(2026, 8, 14), ANSWER_DAYS, set())
    assert due == date(2026, 9, 1)
    # a collective leave day the walidata entered moves it one working day on
    assert add_working_days(date(2026, 8, 14), ANSWER_DAYS, {date(2026, 8, 18)}) == date(2026, 9, 2)
    # the one extension: 7 more working days
    assert add_working_days(due, EXTENSION_DAYS, set()) == date(2026, 9, 10)


def test_the_day_of_receipt_is_not_counted_and_a_due_date_is_a_working_day():
    assert add_working_days(date(2026, 9, 7), 1, set()) == date(2026, 9, 8)
    for start in (date(2026, 12, 18), date(2026, 3, 16), date(2027, 8, 13)):
        due = add_working_days(start, ANSWER_DAYS, set())
        assert is_working_day(due, set())
        assert not is_working_day(date(2026, 12, 25), set())  # Christmas
