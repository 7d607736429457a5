"""NATS JetStream: connection, streams, and the durable consumer loop every service uses.

Consumers are durable pull consumers with explicit acks. ``run_consumer`` gives each handler
idempotence (an inbox row ``(consumer, event_id)`` written in the same transaction as the
effect), acks after commit, and decides every failure with one table
(``shared.bus_failures.decide``): a dependency that is away is waited for without counting
against the message, bad data goes to the DEADLETTER stream at once, anything else is retried
a bounded number of times and then dead-lettered. JetStream itself never drops a message
(``max_deliver`` is unlimited). With a batch handler, the messages of one fetch share one
transaction, and fall back to the one-by-one path if it fails.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

import asyncpg
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from pydantic import ValidationError

# The failure table, used below and re-exported: handlers raise bus.Permanent, callers pass a
# bus.RetryPolicy.
from shared.bus_failures import Decision, Permanent, RetryPolicy, decide  # noqa: F401
from shared.contracts import STREAM_SUBJECTS, DeadLetterV1, Envelope
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
    ``url`` may list a cluster's servers, comma-separated. Replies come to the user's own inbox
    prefix (``shared.infra.inbox_prefix``), the only one its permissions let it read."""
    from urllib.parse import unquote, urlsplit

    from shared.nats_permissions import inbox_prefix

    servers = [u.strip() for u in url.split(",") if u.strip()]
    user = unquote(urlsplit(servers[0]).username or "") if servers else ""
    return await nats.connect(
        servers, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
        connect_timeout=2, allow_reconnect=True,
        inbox_prefix=inbox_prefix(user) if user else "_INBOX",
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


Handler = Callable[[asyncpg.Connection, Envelope], Awaitable[None]]
BatchHandler = Callable[[asyncpg.Connection, Sequence[Envelope]], Awaitable[None]]


async def run_consumer(
    *, js: JetStreamContext, ns: Namespace, pool: asyncpg.Pool, durable: str,
    stream: str, subjects: list[str], handler: Handler,
    batch_handler: BatchHandler | None = None, batch: int = 32, linger: float = 1.0,
    ack_wait: float = 5.0, policy: RetryPolicy = RetryPolicy(),
    stop: asyncio.Event | None = None,
) -> None:
    """Pull messages for ``durable`` until cancelled; a fetch waits at most ``linger`` seconds
    for ``batch`` messages, and a quiet stream is waited on, not polled (``_fetch``; a
    ``stop`` is seen within QUIET_WAIT_S).

    Without ``batch_handler`` each message has its own transaction (``handler``). With it, the
    messages of one fetch go to ``batch_handler`` together, in one transaction with one inbox
    row each (a redelivered event finds its row and is left out); if that transaction fails,
    every message of the fetch takes the one-by-one path through ``handler``, so one bad
    message never holds the others back.

    ``ack_wait`` is short so that a killed process's messages come back within seconds; a
    heartbeat (``+WPI``) keeps the messages of the fetch in hand while they are worked on or
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
    quiet = False
    while stop is None or not stop.is_set():
        _raise_if_cancelled()
        try:
            msgs = await _fetch(sub, batch, linger, quiet)
        except asyncio.TimeoutError:  # nats' own TimeoutError is a subclass: nothing to fetch
            quiet = True
            continue
        except Exception as exc:
            log.warning("consumer %s fetch failed: %s", durable, exc)
            await asyncio.sleep(0.5)
            continue
        quiet = False
        pending = list(msgs)
        beat = asyncio.create_task(_heartbeat(pending, max(ack_wait / 3, 0.2)))
        try:
            await _settle_fetch(pending, wanted, js=js, ns=ns, pool=pool, durable=durable,
                                handler=handler, batch_handler=batch_handler, policy=policy)
        finally:
            beat.cancel()


QUIET_WAIT_S = 5.0  # how long one pull on a quiet stream stays open


async def _fetch(sub, batch: int, linger: float, quiet: bool) -> list:
    """A busy stream: up to ``batch`` messages, waiting at most ``linger`` for them. A quiet one
    (the last fetch found nothing): one pull for a single message, held open QUIET_WAIT_S, which
    the server answers the moment a message arrives, then what came with it (at most ``linger``
    more). Polling a quiet stream every ``linger`` (50 ms) cost each loop 20 pull requests a
    second, its own CPU and NATS's, all day long."""
    if not quiet:
        return await sub.fetch(batch, timeout=linger)
    msgs = await sub.fetch(1, timeout=QUIET_WAIT_S)
    if batch > 1:
        try:
            msgs += await sub.fetch(batch - 1, timeout=linger)
        except Exception:  # nothing came with it (or NATS went away): the one in hand goes on
            pass
    return msgs


async def _settle_fetch(pending: list, wanted: list[str], *, js, ns: Namespace,
                        pool: asyncpg.Pool, durable: str, handler: Handler,
                        batch_handler: BatchHandler | None, policy: RetryPolicy) -> None:
    """Ack, or decide, every message of one fetch; each leaves ``pending`` (the heartbeat's
    list) once settled."""
    for msg in list(pending):
        if not any(subject_matches(p, msg.subject) for p in wanted):
            await _settle(msg.ack())  # an older server ignored filter_subjects
            pending.remove(msg)
    if batch_handler and pending and await _apply_together(
            pending, pool=pool, durable=durable, batch_handler=batch_handler):
        for msg in pending:
            await _settle(msg.ack())
        pending.clear()
    while pending:
        await _handle_one(pending[0], js=js, ns=ns, pool=pool, durable=durable,
                          handler=handler, policy=policy)
        pending.pop(0)


async def _apply_together(msgs: list, *, pool: asyncpg.Pool, durable: str,
                          batch_handler: BatchHandler) -> bool:
    """The messages of one fetch in one transaction: False (rolled back) if anything failed,
    and the caller takes them one by one."""
    try:
        envelopes = [Envelope.model_validate_json(msg.data) for msg in msgs]
        async with pool.acquire() as conn, conn.transaction():
            fresh = await _first_deliveries(conn, durable, envelopes)
            if fresh:
                await batch_handler(conn, fresh)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - decided per message on the one-by-one path
        log.warning("consumer %s: batch of %d failed (%s: %s); one by one", durable,
                    len(msgs), type(exc).__name__, exc)
        return False
    return True


async def _first_deliveries(conn: asyncpg.Connection, durable: str,
                            envelopes: list[Envelope]) -> list[Envelope]:
    """The envelopes seen for the first time (their inbox rows written now), in order."""
    ids = list(dict.fromkeys(e.event_id for e in envelopes))
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[]) "
        "ON CONFLICT DO NOTHING RETURNING event_id", durable, ids)
    new = {r["event_id"] for r in rows}
    out = []
    for e in envelopes:
        if e.event_id in new:
            out.append(e)
            new.discard(e.event_id)  # the same event twice in one fetch: once
    return out


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
