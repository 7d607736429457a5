"""NATS JetStream: connection, streams, and the durable consumer loop every service uses.

Consumers are durable pull consumers with explicit acks. ``run_consumer`` gives each handler
idempotence (an inbox row ``(consumer, event_id)`` written in the same transaction as the
effect), acks after commit, and terminates a message that can never succeed, keeping it in the
DEADLETTER stream with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Awaitable, Callable

import asyncpg
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError
from pydantic import ValidationError

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


async def run_consumer(
    *, js: JetStreamContext, ns: Namespace, pool: asyncpg.Pool, durable: str,
    stream: str, subjects: list[str], handler: Handler, batch: int = 32,
    ack_wait: float = 60.0, max_deliver: int = 20, stop: asyncio.Event | None = None,
    on_batch_done: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Pull messages for ``durable`` until cancelled; each in its own transaction."""
    wanted = [ns.subject(s) for s in subjects]
    # One subject (wildcards allowed) works on every JetStream; several need nats-server 2.10+.
    config = ConsumerConfig(
        durable_name=durable, ack_wait=ack_wait, max_deliver=max_deliver,
        filter_subject=wanted[0] if len(wanted) == 1 else None,
        filter_subjects=wanted if len(wanted) > 1 else None, max_ack_pending=10_000,
    )
    sub = None
    while sub is None:
        try:
            sub = await _bind(js, ns.stream(stream), durable, config)
        except Exception as exc:  # NATS not up yet: keep trying, readyz reports it
            log.warning("consumer %s cannot bind yet: %s", durable, exc)
            await asyncio.sleep(1)
    while stop is None or not stop.is_set():
        try:
            msgs = await sub.fetch(batch, timeout=1.0)
        except asyncio.TimeoutError:  # nats' own TimeoutError is a subclass: nothing to fetch
            continue
        except Exception as exc:
            log.warning("consumer %s fetch failed: %s", durable, exc)
            await asyncio.sleep(0.5)
            continue
        for msg in msgs:
            if not any(subject_matches(p, msg.subject) for p in wanted):
                await msg.ack()  # an older server ignored filter_subjects: not ours to handle
                continue
            await _handle_one(msg, js=js, ns=ns, pool=pool, durable=durable, handler=handler)
        if on_batch_done:
            await on_batch_done()


def subject_matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` is one token, ``>`` the rest."""
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


async def _bind(js: JetStreamContext, stream: str, durable: str, config: ConsumerConfig):
    try:
        await js.consumer_info(stream, durable)
    except NotFoundError:
        await js.add_consumer(stream, config)
    return await js.pull_subscribe_bind(durable, stream=stream)


async def _handle_one(msg, *, js, ns: Namespace, pool: asyncpg.Pool, durable: str,
                      handler: Handler) -> None:
    token = request_id_var.set((msg.headers or {}).get("X-Request-ID"))
    try:
        try:
            envelope = Envelope.model_validate_json(msg.data)
        except ValidationError as exc:
            await _dead_letter(js, ns, msg, durable, f"not an envelope: {exc.errors()[:3]}")
            return
        try:
            async with pool.acquire() as conn, conn.transaction():
                first = await conn.fetchval(
                    "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) "
                    "ON CONFLICT DO NOTHING RETURNING true", durable, envelope.event_id)
                if first:
                    await handler(conn, envelope)
        except (Permanent, ValidationError, ValueError) as exc:
            await _dead_letter(js, ns, msg, durable, f"{type(exc).__name__}: {exc}")
            return
        except Exception:
            log.exception("consumer %s failed on %s; will be redelivered", durable,
                          envelope.event_id)
            await msg.nak(delay=1.0)
            return
        await msg.ack()
    finally:
        request_id_var.reset(token)


async def _dead_letter(js, ns: Namespace, msg, durable: str, reason: str) -> None:
    log.error("consumer %s dead-letters a message on %s: %s", durable, msg.subject, reason)
    event = DeadLetterV1(consumer=durable, original_subject=ns.bare(msg.subject), reason=reason,
                         payload=msg.data.decode("utf-8", "replace")[:1_000_000])
    await publish(js, ns, Envelope.wrap(event))
    await msg.term()

