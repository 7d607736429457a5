"""Transactional outbox: write events with the change, publish them after commit.

``add`` inserts an outbox row in the caller's transaction and NOTIFYs the relay. ``relay`` runs in
each service's lifespan: it claims unsent rows with ``FOR UPDATE SKIP LOCKED`` (so replicas share
the work), publishes each with ``Nats-Msg-Id = event_id`` (JetStream drops a republish inside the
duplicate window), and marks them sent. While NATS is down rows simply wait.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import nats.errors
from nats.js import JetStreamContext

from shared.bus import Namespace, publish
from shared.contracts import DeadLetterV1, Envelope, Event
from shared.logging import request_id_var

log = logging.getLogger("satudata.outbox")

# Picks the unsent rows to publish now (``id``, ``payload`` as text), locked FOR UPDATE in the
# caller's transaction: a service with its own order (ingest sends publishers in turn) passes one.
Claim = Callable[[asyncpg.Connection, int], Awaitable[list]]


async def oldest_first(conn: asyncpg.Connection, limit: int) -> list:
    return await conn.fetch(
        "SELECT id, payload::text AS payload FROM outbox WHERE sent_at IS NULL "
        "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", limit)


def channel(schema: str) -> str:
    return f"{schema}_outbox"


def envelope_json(event: Event, *, event_id: uuid.UUID | None = None,
                  request_id: str | None = None) -> tuple[uuid.UUID, str]:
    """``Envelope.wrap(event).model_dump_json()``, without the detour through a dict: the
    event is serialized by its own typed model (several times faster for a batch of records,
    the registry's hot path). Same JSON, same field order."""
    event_id = event_id or uuid.uuid4()
    head = Envelope(event_id=event_id, type=event.subject, request_id=request_id,
                    data={}).model_dump_json()
    assert head.endswith(_EMPTY_DATA)
    return event_id, head[:-len(_EMPTY_DATA)] + '"data":' + event.model_dump_json() + "}"


_EMPTY_DATA = '"data":{}}'


async def add(conn: asyncpg.Connection, schema: str, event: Event, *,
              event_id=None) -> uuid.UUID:
    """Write ``event`` to the outbox in the caller's transaction; returns its event id."""
    event_id, payload = envelope_json(event, event_id=event_id,
                                      request_id=request_id_var.get())
    await conn.execute(
        "INSERT INTO outbox (event_id, subject, payload) VALUES ($1, $2, $3::text::jsonb)",
        event_id, event.subject, payload,
    )
    await conn.execute(f"NOTIFY {channel(schema)}")
    return event_id


async def publish_pending(pool: asyncpg.Pool, js: JetStreamContext, ns: Namespace,
                          limit: int = 200, claim: Claim = oldest_first) -> int:
    """Publish up to ``limit`` unsent rows; returns how many were sent."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await claim(conn, limit)
        if not rows:
            return 0
        # Publish concurrently, but mark sent only what JetStream acknowledged.
        results = await asyncio.gather(
            *(publish(js, ns, Envelope.model_validate_json(r["payload"])) for r in rows),
            return_exceptions=True)
        sent = [r["id"] for r, res in zip(rows, results) if not isinstance(res, BaseException)]
        for r, res in zip(rows, results):  # an event NATS can never carry must not wait forever
            if isinstance(res, nats.errors.MaxPayloadError) and \
                    await _dead_letter_unpublishable(js, ns, r["payload"], res):
                sent.append(r["id"])
        failed = [res for res in results if isinstance(res, BaseException)
                  and not isinstance(res, nats.errors.MaxPayloadError)]
        if sent:
            await conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
                               sent)
        if failed:
            log.warning("outbox: %d of %d events not published yet: %s", len(failed),
                        len(rows), failed[0])
        return len(sent)


async def _dead_letter_unpublishable(js: JetStreamContext, ns: Namespace, payload: str,
                                     exc: Exception) -> bool:
    """Send a dead letter for an event larger than NATS accepts (its data without the rows, so
    the letter itself travels and names what it was about: ingest marks the chunk failed with
    the reason, and the publisher's turn moves on); True once the letter is stored."""
    envelope = Envelope.model_validate_json(payload)
    data = {k: v for k, v in envelope.data.items() if k != "rows"}
    letter = DeadLetterV1(
        consumer="outbox-relay", original_subject=envelope.type,
        reason=f"pesan {len(payload.encode())} byte melebihi batas NATS ({exc}); kirim ulang "
               "dalam berkas yang lebih kecil",
        payload=envelope.model_copy(update={"data": data}).model_dump_json())
    try:
        await publish(js, ns, Envelope.wrap(letter, event_id=uuid.uuid5(
            uuid.NAMESPACE_URL, f"deadletter:outbox:{envelope.event_id}")))
    except Exception as failure:  # noqa: BLE001 - NATS away: try again next round
        log.warning("dead letter for an unpublishable event not stored yet: %s", failure)
        return False
    log.error("outbox: event %s (%s) is larger than NATS accepts; sent to the dead letters",
              envelope.event_id, envelope.type)
    return True


async def relay(pool: asyncpg.Pool, js: JetStreamContext, ns: Namespace, schema: str,
                idle_wait: float = 0.5, claim: Claim = oldest_first) -> None:
    """Run until cancelled: wake on NOTIFY (or every ``idle_wait`` s) and drain the outbox."""
    wake = asyncio.Event()
    listener = None

    def on_notify(*_args) -> None:
        wake.set()

    while True:
        try:
            if listener is None or listener.is_closed():
                listener = await pool.acquire()
                await listener.add_listener(channel(schema), on_notify)
            # Cleared before the claim, not after it: a NOTIFY that comes while a round runs
            # (a chunk answered, a slot of ingest's window freed) wakes the next round at once
            # instead of being lost until ``idle_wait``.
            wake.clear()
            sent = await publish_pending(pool, js, ns, claim=claim)
            if sent:
                continue
            try:
                await asyncio.wait_for(wake.wait(), idle_wait)
            except asyncio.TimeoutError:
                pass
        except asyncio.CancelledError:
            if listener is not None and not listener.is_closed():
                await listener.remove_listener(channel(schema), on_notify)
                await pool.release(listener)
            raise
        except Exception as exc:
            log.warning("outbox relay error (will retry): %s", exc)
            listener = None
            await asyncio.sleep(1.0)
