"""A durable pull consumer that applies all the messages of one fetch in one transaction.

``shared.bus.run_consumer`` gives each message its own transaction, and its fetch lingers up to
a second for a full batch once the stream is quiet: both cost freshness under load. Here a
fetch waits at most ``linger`` seconds, and its messages go to ``batch_handler`` together, with
one inbox row each in the same transaction (exactly once: a redelivered event finds its row
and is left out). If that transaction fails, every message of the fetch takes the one-by-one
path of ``shared.bus`` (its decision table: wait for a dependency, retry, dead-letter), so one
bad message never holds the others back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Sequence

import asyncpg
from nats.js import JetStreamContext
from pydantic import ValidationError

from shared import bus
from shared.contracts import Envelope

log = logging.getLogger("satudata.bus")

BatchHandler = Callable[[asyncpg.Connection, Sequence[Envelope]], Awaitable[None]]


async def run_batch_consumer(
    *, js: JetStreamContext, ns: bus.Namespace, pool: asyncpg.Pool, durable: str, stream: str,
    subjects: list[str], batch_handler: BatchHandler, handler: bus.Handler, batch: int = 64,
    linger: float = 0.05, ack_wait: float = 5.0, policy: bus.RetryPolicy = bus.RetryPolicy(),
    stop: asyncio.Event | None = None,
) -> None:
    """Pull for ``durable`` until cancelled; ``handler`` (one envelope) is the fallback."""
    wanted = [ns.subject(s) for s in subjects]
    config = bus.consumer_config(durable, wanted, ack_wait=ack_wait)
    sub = None
    while sub is None:
        try:
            sub = await bus._bind(js, ns.stream(stream), durable, config)
        except Exception as exc:  # NATS not up yet: keep trying, readyz reports it
            log.warning("consumer %s cannot bind yet: %s", durable, exc)
            await asyncio.sleep(1)
    while stop is None or not stop.is_set():
        bus._raise_if_cancelled()
        try:
            msgs = await sub.fetch(batch, timeout=linger)
        except asyncio.TimeoutError:
            continue
        except Exception as exc:
            log.warning("consumer %s fetch failed: %s", durable, exc)
            await asyncio.sleep(0.5)
            continue
        pending = list(msgs)
        beat = asyncio.create_task(bus._heartbeat(pending, max(ack_wait / 3, 0.2)))
        try:
            await _settle_fetch(pending, wanted, js=js, ns=ns, pool=pool, durable=durable,
                                batch_handler=batch_handler, handler=handler, policy=policy)
        finally:
            beat.cancel()


async def _settle_fetch(msgs: list, wanted: list[str], *, js, ns, pool: asyncpg.Pool,
                        durable: str, batch_handler: BatchHandler, handler: bus.Handler,
                        policy: bus.RetryPolicy) -> None:
    ours, envelopes = [], []
    for msg in msgs:
        if not any(bus.subject_matches(p, msg.subject) for p in wanted):
            await bus._settle(msg.ack())  # an older server ignored filter_subjects
            continue
        ours.append(msg)
        try:
            envelopes.append(Envelope.model_validate_json(msg.data))
        except ValidationError:
            envelopes.append(None)  # the one-by-one path dead-letters it
    try:
        if None in envelopes:
            raise ValueError("a message is not an envelope")
        async with pool.acquire() as conn, conn.transaction():
            fresh = await _first_deliveries(conn, durable, envelopes)
            if fresh:
                await batch_handler(conn, fresh)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - decided per message below
        log.warning("consumer %s: batch of %d failed (%s: %s); one by one", durable,
                    len(ours), type(exc).__name__, exc)
        for msg in ours:
            await bus._handle_one(msg, js=js, ns=ns, pool=pool, durable=durable,
                                  handler=handler, policy=policy)
        return
    for msg in ours:
        await bus._settle(msg.ack())


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
