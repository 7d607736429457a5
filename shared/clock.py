"""The one clock: every process reads "now" through ``now()``.

In production it is the system clock (UTC). End-to-end tests need to stand after a due date, so a
test-only setting fixes it: ``SATUDATA_NOW`` (an ISO datetime, ``2027-04-02T08:00+08:00``; no
zone = WITA) is obeyed only when ``SATUDATA_TESTING=1`` is also set. Without that flag a set
``SATUDATA_NOW`` is refused loudly (``ClockMisconfigured``) rather than silently moving a
production clock. The variables are read on every call, so a test can move the clock of a
running process it started in-process (and a process started with them keeps that time).
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone

WITA = timezone(timedelta(hours=8), "WITA")
NOW_VAR = "SATUDATA_NOW"
TESTING_VAR = "SATUDATA_TESTING"


class ClockMisconfigured(RuntimeError):
    """SATUDATA_NOW set outside tests."""


def _fixed() -> datetime | None:
    raw = os.environ.get(NOW_VAR, "").strip()
    if not raw:
        return None
    if os.environ.get(TESTING_VAR) != "1":
        raise ClockMisconfigured(
            f"{NOW_VAR} is a test-only setting: set {TESTING_VAR}=1 too, or unset {NOW_VAR}")
    moment = datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WITA)
    return moment.astimezone(timezone.utc)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return _fixed() or datetime.now(timezone.utc)


def today_wita() -> date:
    """Today's date in Kutai Timur (WITA, UTC+8)."""
    return now().astimezone(WITA).date()


def check() -> None:
    """Fail fast at start-up when the clock is misconfigured."""
    _fixed()
