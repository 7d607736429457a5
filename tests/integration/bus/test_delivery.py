"""The consumer loop's failure decisions on a real nats-server and a real PostgreSQL.

Each test runs ``run_consumer`` on its own stream namespace and database, publishes a message,
and makes the handler fail the way a real dependency does; it then checks how many times the
message was delivered, whether it was applied, and what reached DEADLETTER.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from shared import bus
from shared.contracts import DeadLetterV1, Envelope, RegionsChangedV1, SubmissionChunkV1
from tests.helpers import dead_letters, drained, eventually

FAST = bus.RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2, wait_initial=0.05,
                       wait_max=0.2)


@pytest.fixture
async def pool(database_url):
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await pool.execute("CREATE TABLE inbox (consumer text, event_id uuid, "
                       "PRIMARY KEY (consumer, event_id))")
    await pool.execute("CREATE TABLE applied (event_id uuid PRIMARY KEY)")
    yield pool
    await pool.close()


@pytest.fixture
async def js(nats_url, nats_namespace):
    nc = await bus.connect(nats_url, "bus-test")
    js = nc.jetstream()
    ns = bus.Namespace(nats_namespace)
    await bus.ensure_streams(js, ns)
    yield js, ns
    for name in ("INGEST", "REGISTRY", "DEADLETTER"):
        with contextlib.suppress(Exception):
            await js.delete_stream(ns.stream(name))
    await nc.close()


def _region_event() -> Envelope:
    return Envelope.wrap(RegionsChangedV1(regions=[]))


@contextlib.asynccontextmanager
async def consuming(js_ns, pool, handler, *, subjects=None, ack_wait=5.0, durable="t",
                    stream="REGISTRY", linger=1.0):
    js, ns = js_ns
    task = asyncio.create_task(bus.run_consumer(
        js=js, ns=ns, pool=pool, durable=durable, stream=stream,
        subjects=subjects or [RegionsChangedV1.subject], handler=handler, batch=4,
        ack_wait=ack_wait, policy=FAST, linger=linger))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _applied(pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM applied")


async def _dead_letters(js_ns) -> list[DeadLetterV1]:
    return await dead_letters(*js_ns)


async def _num_redelivered(js_ns, durable="t") -> int:
    js, ns = js_ns
    return (await js.consumer_info(ns.stream("REGISTRY"), durable)).num_redelivered


async def _apply(conn, envelope):
    await conn.execute("INSERT INTO applied VALUES ($1)", envelope.event_id)


async def test_a_quiet_stream_is_waited_on_not_polled(pool, js):
    """With the services' 50 ms linger, an idle loop used to ask for messages 20 times a
    second; it holds one pull open instead, and a message that comes is still taken at once."""
    async def handler(conn, envelope):
        await _apply(conn, envelope)

    nc = js[0]._nc
    async with consuming(js, pool, handler, linger=0.05):
        await bus.publish(js[0], js[1], _region_event())  # (bound, fetched, then quiet)
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
        await asyncio.sleep(0.5)
        sent = nc.stats["out_msgs"]
        await asyncio.sleep(2)
        assert nc.stats["out_msgs"] - sent <= 2  # polling: 58 (a probe and a pull each 50 ms)
        await bus.publish(js[0], js[1], _region_event())
        # well within the held pull's 5 s: the server hands the message to it on arrival
        await eventually(lambda: _eq(_applied(pool), 2), timeout=bus.QUIET_WAIT_S / 2)


async def test_statement_timeouts_and_lost_connections_wait_without_counting(pool, js):
    """Real statement timeouts (57014), then a dropped connection: the message is held and
    retried in place; it is applied once and never redelivered or dead-lettered."""
    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        if len(calls) <= 3:
            await conn.execute("SET LOCAL statement_timeout = 10")
            await conn.execute("SELECT pg_sleep(1)")
        if len(calls) == 4:
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")
        if len(calls) == 5:
            raise asyncpg.exceptions.SerializationError("could not serialize access")
        await _apply(conn, envelope)

    async with consuming(js, pool, handler):
        await bus.publish(js[0], js[1], _region_event())
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
    assert len(calls) == 6
    assert await _num_redelivered(js) == 0
    info = await js[0].consumer_info(js[1].stream("REGISTRY"), "t")
    assert info.delivered.consumer_seq == 1  # one delivery: waiting spent no attempt
    assert await _dead_letters(js) == []


async def test_bad_data_is_dead_lettered_at_once_with_its_reason(pool, js):
    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        await conn.execute("SELECT 'tiga'::int")  # 22P02, as a bad value in a row would

    async with consuming(js, pool, handler):
        await bus.publish(js[0], js[1], _region_event())
        letters = await eventually(lambda: _dead_letters(js), timeout=20)
    assert len(calls) == 1
    assert letters[0].consumer == "t" and "InvalidTextRepresentation" in letters[0].reason
    assert letters[0].original_subject == RegionsChangedV1.subject
    assert await _applied(pool) == 0


async def test_a_contract_that_does_not_validate_is_dead_lettered(pool, js):
    async def handler(conn, envelope):
        envelope.open(SubmissionChunkV1)

    bad = Envelope(type=SubmissionChunkV1.subject, data={"chunk": -1})
    async with consuming(js, pool, handler, stream="INGEST",
                         subjects=[SubmissionChunkV1.subject]):
        await bus.publish(js[0], js[1], bad)
        letters = await eventually(lambda: _dead_letters(js), timeout=20)
    assert "ValidationError" in letters[0].reason


async def test_other_errors_retry_with_backoff_then_dead_letter_with_the_count(pool, js):
    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        raise RuntimeError("kaput")

    async with consuming(js, pool, handler):
        await bus.publish(js[0], js[1], _region_event())
        letters = await eventually(lambda: _dead_letters(js), timeout=20)
        # terminated: the consumer holds nothing more to deliver or to wait an ack for
        await eventually(lambda: drained(js[0], js[1].stream("REGISTRY"), "t"), timeout=20)
    assert len(calls) == FAST.attempts
    assert "failed 3 deliveries" in letters[0].reason and "kaput" in letters[0].reason


async def test_a_retried_error_that_clears_is_applied_once(pool, js):
    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("once")
        await _apply(conn, envelope)

    async with consuming(js, pool, handler):
        await bus.publish(js[0], js[1], _region_event())
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
    assert await _dead_letters(js) == []


async def test_long_work_is_held_by_heartbeats_past_the_ack_wait(pool, js):
    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        await asyncio.sleep(3.5)  # more than three ack waits
        await _apply(conn, envelope)

    async with consuming(js, pool, handler, ack_wait=1.0):
        await bus.publish(js[0], js[1], _region_event())
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
        await asyncio.sleep(1.5)
    assert len(calls) == 1
    assert await _num_redelivered(js) == 0


async def test_a_durable_receives_a_subject_added_to_its_filter(pool, js):
    """An upgrade that adds a subject reaches the existing durable, not only a fresh one."""
    seen: list[str] = []

    async def handler(conn, envelope):
        seen.append(envelope.type)

    from shared.contracts import DatasetsChangedV1
    async with consuming(js, pool, handler, subjects=[RegionsChangedV1.subject]):
        await bus.publish(js[0], js[1], _region_event())
        await eventually(lambda: _eq(_len(seen), 1), timeout=20)
    both = [RegionsChangedV1.subject, DatasetsChangedV1.subject]
    async with consuming(js, pool, handler, subjects=both, ack_wait=2.0):
        await bus.publish(js[0], js[1], Envelope.wrap(DatasetsChangedV1(datasets=[])))
        await eventually(lambda: _eq(_len(seen), 2), timeout=20)
    assert seen == both
    info = await js[0].consumer_info(js[1].stream("REGISTRY"), "t")
    assert sorted(info.config.filter_subjects) == sorted(js[1].subject(s) for s in both)
    assert info.config.ack_wait == 2.0


async def _eq(value, expected) -> bool:
    return (await value) == expected


async def _len(items) -> int:
    return len(items)


# --- the rest of the decision table ---------------------------------------------------------

async def test_a_nak_waits_its_backoff_while_later_messages_go_ahead(pool, js):
    """RETRY is a nak with a delay, not a retry in place: the failed message goes back to
    JetStream, the next message is applied meanwhile, and the failed one is redelivered only
    after its delay (a minute here, so it is still waiting when the next one is done)."""
    slow = bus.RetryPolicy(attempts=3, base_delay=60.0, max_delay=60.0)
    first, second = _region_event(), _region_event()
    calls: list = []

    async def handler(conn, envelope):
        calls.append(envelope.event_id)
        if envelope.event_id == first.event_id:
            raise RuntimeError("not yet")
        await _apply(conn, envelope)

    js_, ns = js
    task = asyncio.create_task(bus.run_consumer(
        js=js_, ns=ns, pool=pool, durable="t", stream="REGISTRY",
        subjects=[RegionsChangedV1.subject], handler=handler, batch=4, policy=slow))
    try:
        await bus.publish(js_, ns, first)
        await eventually(lambda: _eq(_len(calls), 1), timeout=20)
        await bus.publish(js_, ns, second)
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
        info = await js_.consumer_info(ns.stream("REGISTRY"), "t")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert calls == [first.event_id, second.event_id]  # the first was not redelivered yet
    assert info.num_ack_pending == 1 and info.num_redelivered == 0
    assert await _dead_letters(js) == []


async def test_a_nakked_message_is_redelivered_by_jetstream_and_applied_once(pool, js):
    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("once")
        await _apply(conn, envelope)

    async with consuming(js, pool, handler):
        await bus.publish(js[0], js[1], _region_event())
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
        info = await js[0].consumer_info(js[1].stream("REGISTRY"), "t")
    # JetStream delivered it twice (a RETRY spends an attempt), unlike a WAIT, which retries
    # in place on the one delivery
    assert len(calls) == 2 and info.delivered.consumer_seq == 2
    assert info.delivered.stream_seq == 1


@pytest.mark.parametrize("status,dead_lettered", [(409, True), (422, True), (503, False)])
async def test_service_errors_dead_letter_a_4xx_and_retry_a_5xx(pool, js, status,
                                                                 dead_lettered):
    from shared.errors import AppError

    class Refused(AppError):
        status_code = status

    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        raise Refused("ditolak", code="refused")

    async with consuming(js, pool, handler):
        await bus.publish(js[0], js[1], _region_event())
        letters = await eventually(lambda: _dead_letters(js), timeout=20)
    assert len(calls) == (1 if dead_lettered else FAST.attempts)
    assert ("failed" in letters[0].reason) is (not dead_lettered)
    assert "Refused" in letters[0].reason


async def test_bytes_that_are_not_an_envelope_are_dead_lettered_unopened(pool, js):
    calls = []

    async def handler(conn, envelope):
        calls.append(1)

    js_, ns = js
    async with consuming(js, pool, handler):
        await js_.publish(ns.subject(RegionsChangedV1.subject), b"bukan json")
        letters = await eventually(lambda: _dead_letters(js), timeout=20)
    assert calls == [] and "not an envelope" in letters[0].reason
    assert letters[0].payload == "bukan json"


async def test_a_redelivered_event_already_applied_changes_nothing(pool, js):
    """The inbox: the same event under another message id (a republish after the duplicate
    window) is acked without running the handler again."""
    calls = []

    async def handler(conn, envelope):
        calls.append(1)
        await _apply(conn, envelope)

    js_, ns = js
    event = _region_event()
    async with consuming(js, pool, handler):
        await bus.publish(js_, ns, event)
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
        await js_.publish(ns.subject(event.type), event.model_dump_json().encode(),
                          headers={"Nats-Msg-Id": "republished"})
        second = _region_event()
        await bus.publish(js_, ns, second)
        await eventually(lambda: _eq(_applied(pool), 2), timeout=20)

        async def acked():
            # (the second event's row commits before its message is acked: wait for the ack)
            info = await js_.consumer_info(ns.stream("REGISTRY"), "t")
            return info if info.num_ack_pending == 0 else None

        info = await eventually(acked, timeout=20)
    assert len(calls) == 2 and info.num_ack_pending == 0
    assert await _dead_letters(js) == []


async def test_a_subject_outside_the_consumers_own_is_never_handled(pool, js):
    """A foreign subject on the same stream (another consumer's event) never reaches the
    handler, and does not hold up the consumer's own messages."""
    from shared.contracts import DatasetsChangedV1
    seen: list[str] = []

    async def handler(conn, envelope):
        seen.append(envelope.type)
        await _apply(conn, envelope)

    async with consuming(js, pool, handler, subjects=[RegionsChangedV1.subject]):
        await bus.publish(js[0], js[1], Envelope.wrap(DatasetsChangedV1(datasets=[])))
        await bus.publish(js[0], js[1], _region_event())
        await eventually(lambda: _eq(_applied(pool), 1), timeout=20)
    assert seen == [RegionsChangedV1.subject]
    assert await _dead_letters(js) == []


def test_a_foreign_subject_is_recognised_by_nats_wildcard_rules():
    """The loop's own guard (for servers that ignore ``filter_subjects``) agrees with NATS."""
    wanted = ["ns.registry.regions.changed.v1", "ns.ingest.>"]
    assert any(bus.subject_matches(p, "ns.ingest.submission.chunk.v1") for p in wanted)
    assert not any(bus.subject_matches(p, "ns.registry.datasets.changed.v1") for p in wanted)
