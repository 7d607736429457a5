"""The one table that decides what a consumer does with a message whose handling failed.

``shared.bus.run_consumer`` asks ``decide`` about every exception a handler raises: a
dependency that is away is waited for without counting against the message (WAIT), bad data
goes to the DEADLETTER stream at once (DEADLETTER), anything else is retried with backoff a
bounded number of times and then dead-lettered (RETRY, timed by ``RetryPolicy``). Pure: no
I/O, tested case by case in ``tests/unit/test_bus.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import Enum

import asyncpg
import nats.errors
from pydantic import ValidationError

from shared.errors import AppError


class Permanent(Exception):
    """Raised by a handler for a message that will never succeed (goes to the dead letters)."""


class Decision(str, Enum):
    WAIT = "wait"              # a dependency is away: hold the message, retry until it answers
    DEADLETTER = "deadletter"  # bad data: it can never succeed
    RETRY = "retry"            # anything else: bounded exponential backoff, then DEADLETTER


# Not the message's fault. 08 connection exception, 53 insufficient resources (too many
# connections, disk full), 57 operator intervention (shutdown, cannot connect now, statement
# timeout 57014), 58 system error (I/O); 40001 serialization failure, 40P01 deadlock,
# 55P03 lock not available.
_WAIT_CLASSES = ("08", "53", "57", "58")
_WAIT_STATES = {"40001", "40P01", "55P03"}
# Bad data: 22 data exception (bad value, out of range), 23 integrity constraint violation.
_BAD_DATA_CLASSES = ("22", "23")


def decide(exc: BaseException) -> Decision:
    """What to do with a message whose handling raised ``exc``: one table for every consumer."""
    if isinstance(exc, (Permanent, ValidationError)):
        return Decision.DEADLETTER
    if isinstance(exc, AppError):  # a 4xx from the service layer is about the data
        return Decision.DEADLETTER if exc.status_code < 500 else Decision.RETRY
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        if state in _WAIT_STATES or state[:2] in _WAIT_CLASSES:
            return Decision.WAIT
        if state[:2] in _BAD_DATA_CLASSES:
            return Decision.DEADLETTER
        return Decision.RETRY
    if isinstance(exc, asyncpg.exceptions.ConnectionDoesNotExistError):
        return Decision.WAIT
    if isinstance(exc, asyncpg.InterfaceError) and any(
            words in str(exc) for words in ("closed", "released back to the pool")):
        return Decision.WAIT  # the pool's connection was lost mid-use (and given back)
    if isinstance(exc, (OSError, asyncio.TimeoutError, nats.errors.Error)):
        return Decision.WAIT  # refused/reset/unreachable, pool acquire or NATS timeouts
    if isinstance(exc, asyncpg.exceptions._base.InternalClientError):
        return Decision.WAIT  # a pooled connection left mid-protocol when its server died
    if isinstance(exc, ValueError):  # an envelope of the wrong type, a value that cannot parse
        return Decision.DEADLETTER
    return Decision.RETRY


@dataclass(frozen=True)


class RetryPolicy:
    """Backoff for RETRY (counted by JetStream's delivery count) and for WAIT (not counted)."""

    attempts: int = 5          # deliveries before an unexplained failure goes to DEADLETTER
    base_delay: float = 1.0    # seconds before the 2nd delivery; doubles each time
    max_delay: float = 30.0
    wait_initial: float = 0.5  # first pause while a dependency is away; doubles up to wait_max
    wait_max: float = 10.0

    def retry_delay(self, delivered: int) -> float:
        return min(self.base_delay * 2 ** max(delivered - 1, 0), self.max_delay)
