"""The registry applies the chunks of one fetch in one transaction, exactly once, and a faulty
chunk among them is isolated (dead-lettered) while the others are applied."""

from __future__ import annotations

import uuid

import nats

from services.registry.app import create_app
from shared import bus
from shared.contracts import DeadLetterV1, Envelope, SubmissionChunkV1
from tests.helpers import dead_letters, eventually, served

VILLAGES = ["64.08.04.2001", "64.08.04.2011", "64.08.04.2012"]


def _chunk(submission_id: uuid.UUID, chunk: int, chunks: int, year: int) -> SubmissionChunkV1:
    rows = [{"region": v, "period": str(year), "jenis_kelamin": s, "jumlah": 10 + i}
            for i, (v, s) in enumerate((v, s) for v in VILLAGES for s in ("L", "P"))]
    return SubmissionChunkV1(submission_id=submission_id, dataset="jumlah-penduduk",
                             publisher_id="disdukcapil", chunk=chunk, chunks=chunks,
                             row_offset=chunk * len(rows), rows=rows)


def _batched(settings):
    """A registry that takes up to 16 chunks per fetch (the default is one: freshness)."""
    return settings.model_copy(update={"consumer_batch": 16})


async def _publish_all(settings, envelopes: list[Envelope]) -> None:
    """Published before the registry starts, so its first fetch holds them together."""
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    ns = bus.Namespace(settings.nats_namespace)
    await bus.ensure_streams(js, ns)
    for envelope in envelopes:
        await bus.publish(js, ns, envelope)
    await nc.close()


async def _dead_letters(settings) -> list[DeadLetterV1]:
    nc = await nats.connect(settings.nats_url)
    try:
        return await dead_letters(nc.jetstream(), bus.Namespace(settings.nats_namespace))
    finally:
        await nc.close()


async def test_the_chunks_of_one_fetch_share_one_transaction_and_apply_once(
        registry_db, registry_settings):
    pool, _ = registry_db
    sid = uuid.uuid4()
    chunks = [_chunk(sid, i, 6, 2000 + i) for i in range(6)]
    envelopes = [Envelope.wrap(c) for c in chunks]
    envelopes.append(Envelope.wrap(chunks[2]))  # the reconciler re-sent a chunk: new event id
    await _publish_all(registry_settings, envelopes)
    async with served(create_app(_batched(registry_settings))):
        await eventually(lambda: pool.fetchval(
            "SELECT count(*) = 7 FROM registry.inbox WHERE consumer = 'registry-submissions'"),
            timeout=30)
    assert await pool.fetchval("SELECT count(*) FROM registry.applied_chunks") == 6
    assert await pool.fetchval("SELECT count(*) FROM registry.records") == 36
    assert await pool.fetchval("SELECT count(*) FROM registry.record_versions") == 36
    # applied_at is the transaction's start: chunks sharing one have the same time
    times = await pool.fetchval("SELECT count(DISTINCT applied_at) FROM registry.applied_chunks")
    assert times < 6


async def test_a_faulty_chunk_in_a_fetch_is_dead_lettered_and_the_others_apply(
        registry_db, registry_settings):
    pool, _ = registry_db
    good = [_chunk(uuid.uuid4(), 0, 1, 2010 + i) for i in range(4)]
    envelopes = [Envelope.wrap(c) for c in good]
    bad = Envelope(type=SubmissionChunkV1.subject, data={"dataset": "jumlah-penduduk"})
    envelopes.insert(2, bad)  # not a chunk: can never succeed
    await _publish_all(registry_settings, envelopes)
    async with served(create_app(_batched(registry_settings))):
        await eventually(lambda: pool.fetchval(
            "SELECT count(*) = 4 FROM registry.applied_chunks"), timeout=30)
        letters = await eventually(lambda: _dead_letters(registry_settings), timeout=30)
    assert [d.consumer for d in letters] == ["registry-submissions"]
    assert str(bad.event_id) in letters[0].payload
    assert await pool.fetchval("SELECT count(*) FROM registry.records") == 24
    assert not await pool.fetchval(
        "SELECT count(*) FROM registry.inbox WHERE event_id = $1", bad.event_id)
