"""NATS JetStream: connection, streams, and the durable consumer loop every service uses.

Consumers are durable pull consumers with explicit acks. ``run_consumer`` gives each handler
idempotence (an inbox row ``(consumer, event_id)`` written in the same transaction as the
effect), acks after commit, and decides every failure with one table (``decide``): a dependency
that is away is waited for without counting against the message, bad data goes to the
DEADLETTER stream at once, anything else is retried a bounded number of times and then
dead-lettered. JetStream itself never drops a message (``max_deliver`` is unlimited).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Awaitable, Callable

import asyncpg
import nats
import nats.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from pydantic import ValidationError

from shared.contracts import STREAM_SUBJECTS, DeadLetterV1, Envelope
from shared.errors import AppError
from shared.logging import request_id_var

log = logging.getLogger("satudata.bus")

DUPLICATE_WINDOW_S = 600.0


@dataclass(frozen=True)
class Namespace:
    """Prefix for subjects and stream names, so tests can share one nats-server."""

    prefix: str = ""

    def subject(self, subject: str) -> str:
        return f"{self.prefix}.{subject}" if self.prefix else subject

    def bare(self, subject: str) -> str:
        if self.prefix and subject.startswith(self.prefix + "."):
            return subject[len(self.prefix) + 1:]
        return subject

    def stream(self, name: str) -> str:
        return f"{self.prefix.upper().replace('.', '_')}_{name}" if self.prefix else name


async def connect(url: str, name: str) -> NATS:
    """Connect, and keep reconnecting for ever: a restarted nats-server must be picked up.
    ``url`` may list a cluster's servers, comma-separated."""
    return await nats.connect(
        [u.strip() for u in url.split(",") if u.strip()], name=name,
        max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=2,
        allow_reconnect=True,
    )


async def ensure_streams(js: JetStreamContext, ns: Namespace,
                         replicas: int | None = None) -> None:
    """Create or update every stream. ``replicas`` (default ``NATS_STREAM_REPLICAS``, 1) is
    how many servers of a JetStream cluster keep each stream: 3 survives losing one node."""
    if replicas is None:
        replicas = int(os.environ.get("NATS_STREAM_REPLICAS", "1"))
    for name, subjects in STREAM_SUBJECTS.items():
        config = StreamConfig(
            name=ns.stream(name), subjects=[ns.subject(s) for s in subjects],
            storage=StorageType.FILE, duplicate_window=DUPLICATE_WINDOW_S,
            max_age=14 * 24 * 3600.0, num_replicas=replicas,
        )
        try:
            await js.add_stream(config)
        except BadRequestError:
            await js.update_stream(config)


async def publish(js: JetStreamContext, ns: Namespace, envelope: Envelope,
                  timeout: float = 5.0) -> None:
    headers = {"Nats-Msg-Id": str(envelope.event_id)}
    if envelope.request_id:
        headers["X-Request-ID"] = envelope.request_id
    await js.publish(ns.subject(envelope.type), envelope.model_dump_json().encode(),
                     headers=headers, timeout=timeout)


class Permanent(Exception):
    """Raised by a handler for a message that will never succeed (goes to the dead letters)."""


Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]


# --- the failure decision table ------------------------------------------------------------

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
    if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
        return Decision.WAIT  # the pool's connection was lost mid-use
    if isinstance(exc, (OSError, asyncio.TimeoutError, nats.errors.Error)):
        return Decision.WAIT  # refused/reset/unreachable, pool acquire or NATS timeouts
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


async def run_consumer(
    *, js: JetStreamContext, ns: Namespace, pool: asyncpg.Pool, durable: str,
    stream: str, subjects: list[str], handler: Handler, batch: int = 32,
    ack_wait: float = 5.0, policy: RetryPolicy = RetryPolicy(),
    stop: asyncio.Event | None = None,
    on_batch_done: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Pull messages for ``durable`` until cancelled; each in its own transaction.

    ``ack_wait`` is short so that a killed process's messages come back within seconds; a
    heartbeat (``+WPI``) keeps the messages of the batch in hand while they are worked on or
    while a dependency is away. ``max_deliver`` is unlimited: JetStream never discards a
    message, the retry policy sends it to DEADLETTER instead.
    """
    wanted = [ns.subject(s) for s in subjects]
    config = consumer_config(durable, wanted, ack_wait=ack_wait)
    sub = None
    while sub is None:
        try:
            sub = await _bind(js, ns.stream(stream), durable, config)
        except Exception as exc:  # NATS not up yet: keep trying, readyz reports it
            log.warning("consumer %s cannot bind yet: %s", durable, exc)
            await asyncio.sleep(1)
    while stop is None or not stop.is_set():
        _raise_if_cancelled()
        try:
            msgs = await sub.fetch(batch, timeout=1.0)
        except asyncio.TimeoutError:  # nats' own TimeoutError is a subclass: nothing to fetch
            continue
        except Exception as exc:
            log.warning("consumer %s fetch failed: %s", durable, exc)
            await asyncio.sleep(0.5)
            continue
        pending = list(msgs)
        beat = asyncio.create_task(_heartbeat(pending, max(ack_wait / 3, 0.2)))
        try:
            while pending:
                msg = pending[0]
                if any(subject_matches(p, msg.subject) for p in wanted):
                    await _handle_one(msg, js=js, ns=ns, pool=pool, durable=durable,
                                      handler=handler, policy=policy)
                else:
                    await _settle(msg.ack())  # an older server ignored filter_subjects
                pending.pop(0)
        finally:
            beat.cancel()
        if on_batch_done:
            await on_batch_done()


def _raise_if_cancelled() -> None:
    """Python 3.11's ``asyncio.wait_for`` (inside nats-py's fetch) can swallow a cancellation
    that arrives as a message does; the task still counts it, so the loop ends here instead of
    fetching for ever and hanging the service's shutdown."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def consumer_config(durable: str, subjects: list[str], *, ack_wait: float) -> ConsumerConfig:
    # One subject (wildcards allowed) works on every JetStream; several need nats-server 2.10+.
    return ConsumerConfig(
        durable_name=durable, ack_wait=ack_wait, max_deliver=-1,
        filter_subject=subjects[0] if len(subjects) == 1 else None,
        filter_subjects=subjects if len(subjects) > 1 else None, max_ack_pending=10_000,
    )


async def _heartbeat(pending: list, every: float) -> None:
    """Tell JetStream the batch's messages are still being worked on (+WPI resets ack_wait)."""
    while True:
        await asyncio.sleep(every)
        for msg in list(pending):
            await _settle(msg.in_progress())


async def _settle(ack: Awaitable[None]) -> None:
    """An ack that cannot reach NATS is redelivered later, and the inbox makes that harmless."""
    try:
        await ack
    except Exception as exc:  # noqa: BLE001
        log.debug("ack not sent: %s", exc)


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, ``>`` the rest."""
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


_EDITABLE = ("ack_wait", "max_deliver", "filter_subject", "filter_subjects", "max_ack_pending")


async def _bind(js: JetStreamContext, stream: str, durable: str, config: ConsumerConfig):
    """Create the durable, or update it when its filter or settings changed (an upgrade that
    adds a subject must receive it on a deployed system, not only in a fresh namespace)."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        await js.add_consumer(stream, config)
    else:
        if _differs(info.config, config):
            log.info("consumer %s: updating its settings on %s", durable, stream)
            await js.add_consumer(stream, config)  # 2.10+: create-or-update of the durable
    return await js.pull_subscribe_bind(durable, stream=stream)


def _differs(have: ConsumerConfig, want: ConsumerConfig) -> bool:
    def norm(c: ConsumerConfig, field: str):
        value = getattr(c, field)
        if field == "filter_subjects":
            return sorted(value or ([c.filter_subject] if c.filter_subject else []))
        if field == "filter_subject":
            return None  # compared through filter_subjects
        if field == "max_deliver":
            return value if value and value > 0 else -1
        if field == "ack_wait":
            return round(float(value or 0), 3)
        return value
    return any(norm(have, f) != norm(want, f) for f in _EDITABLE)


async def _handle_one(msg, *, js, ns: Namespace, pool: asyncpg.Pool, durable: str,
                      handler: Handler, policy: RetryPolicy) -> None:
    token = request_id_var.set((msg.headers or {}).get("X-Request-ID"))
    try:
        try:
            envelope = Envelope.model_validate_json(msg.data)
        except ValidationError as exc:
            await _dead_letter(js, ns, msg, durable, f"not an envelope: {exc.errors()[:3]}",
                               policy)
            return
        waiting = policy.wait_initial
        while True:
            try:
                async with pool.acquire() as conn, conn.transaction():
                    first = await conn.fetchval(
                        "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) "
                        "ON CONFLICT DO NOTHING RETURNING true", durable, envelope.event_id)
                    if first:
                        await handler(conn, envelope)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is decided below
                decision = decide(exc)
                if decision is Decision.WAIT:
                    # Not the message's fault: keep it in hand (the heartbeat holds it), stop
                    # fetching, and try again until the dependency answers, for as long as it
                    # takes. The delivery count does not move.
                    log.warning("consumer %s waits %.1fs for a dependency: %s: %s", durable,
                                waiting, type(exc).__name__, exc)
                    await asyncio.sleep(waiting)
                    waiting = min(waiting * 2, policy.wait_max)
                    _raise_if_cancelled()
                    continue
                delivered = _delivered(msg)
                if decision is Decision.DEADLETTER:
                    await _dead_letter(js, ns, msg, durable, f"{type(exc).__name__}: {exc}",
                                       policy)
                elif delivered >= policy.attempts:
                    await _dead_letter(
                        js, ns, msg, durable,
                        f"failed {delivered} deliveries; last: {type(exc).__name__}: {exc}",
                        policy)
                else:
                    delay = policy.retry_delay(delivered)
                    log.exception("consumer %s failed on %s (delivery %d); retry in %.0fs",
                                  durable, envelope.event_id, delivered, delay)
                    await _settle(msg.nak(delay=delay))
                return
            await _settle(msg.ack())
            return
    finally:
        request_id_var.reset(token)


def _delivered(msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:  # noqa: BLE001 - not a JetStream message (cannot happen on a consumer)
        return 1


async def _dead_letter(js, ns: Namespace, msg, durable: str, reason: str,
                       policy: RetryPolicy) -> None:
    """Keep the message in DEADLETTER with its reason, then terminate it. The dead letter's id
    is derived from the original's stream position, so a retried publish is not duplicated."""
    log.error("consumer %s dead-letters a message on %s: %s", durable, msg.subject, reason)
    try:
        position = f"{msg.metadata.stream}:{msg.metadata.sequence.stream}"
    except Exception:  # noqa: BLE001
        position = msg.data.decode("utf-8", "replace")
    event = DeadLetterV1(consumer=durable, original_subject=ns.bare(msg.subject), reason=reason,
                         payload=msg.data.decode("utf-8", "replace")[:1_000_000])
    envelope = Envelope.wrap(event, event_id=uuid.uuid5(uuid.NAMESPACE_URL,
                                                        f"deadletter:{durable}:{position}"))
    waiting = policy.wait_initial
    while True:
        try:
            await publish(js, ns, envelope)
            break
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - NATS away: the message stays in hand
            log.warning("dead letter not stored yet (%s); retrying", exc)
            await asyncio.sleep(waiting)
            waiting = min(waiting * 2, policy.wait_max)
    await _settle(msg.term())
