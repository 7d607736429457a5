"""Date parameters as people write them (shared/dates.py, used by every service)."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.dates import WITA, parse_instant
from shared.errors import Unprocessable

END_28_NOV_WITA = datetime(2026, 11, 28, 23, 59, 59, 999999, WITA)


@pytest.mark.parametrize("written", ["2026-11-28", "28-11-2026", "28/11/2026", " 28/11/2026 ",
                                     "28 November 2026", "28 Nov 2026", "28 nov. 2026",
                                     "28.11.2026"])
def test_a_date_alone_is_the_end_of_that_day_in_kutai_timur(written):
    assert parse_instant(written, "as_of") == END_28_NOV_WITA


@pytest.mark.parametrize("written, expected", [
    ("2026-11-28T10:00", datetime(2026, 11, 28, 10, 0, tzinfo=WITA)),  # no zone = WITA
    ("2026-11-28 10:00:30", datetime(2026, 11, 28, 10, 0, 30, tzinfo=WITA)),
    ("2026-11-28T10:00+07:00", datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)),
    ("2026-11-28T02:00:00Z", datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)),
])
def test_datetimes_with_and_without_a_zone(written, expected):
    got = parse_instant(written)
    assert got == expected and got.tzinfo is not None


@pytest.mark.parametrize("written", ["kemarin", "", "2026-13-01", "31-02-2026", "11/28/2026",
                                     "2026-11-28T25:00", "28 Brumaire 2026", "1732780800"])
def test_anything_else_is_a_422_naming_the_parameter(written):
    with pytest.raises(Unprocessable) as refused:
        parse_instant(written, "as_of")
    assert refused.value.code == "invalid_date"
    assert refused.value.details[0]["field"] == "as_of"
    assert "Tanggal" in refused.value.message


def test_absent_is_none():
    assert parse_instant(None) is None


@given(st.text(max_size=30))
def test_any_text_is_an_aware_datetime_or_a_422(text):
    try:
        got = parse_instant(text)
    except Unprocessable:
        return
    assert got.tzinfo is not None and got.utcoffset() is not None


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2999, 1, 1)))
def test_iso_datetimes_without_zone_read_as_wita(moment):
    got = parse_instant(moment.isoformat())
    assert got.replace(tzinfo=None) == moment and got.utcoffset() == timedelta(hours=8)
