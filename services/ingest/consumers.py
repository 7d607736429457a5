"""The registry's import summaries, one per chunk, update the submission's status."""

from __future__ import annotations

import logging
from typing import Sequence

import asyncpg

from services.ingest import service
from shared import bus
from shared.contracts import DeadLetterV1, Envelope, SubmissionChunkProcessedV1
from shared.runtime import Runtime

log = logging.getLogger("satudata.ingest.consumers")

DURABLE = "ingest-submission-results"
DEAD_LETTERS = "ingest-dead-letters"


async def handle_chunk_processed(conn: asyncpg.Connection, envelope: Envelope) -> None:
    if envelope.type != SubmissionChunkProcessedV1.subject:
        # nats-server < 2.10 ignores the consumer's filter_subjects and delivers the whole
        # REGISTRY stream: other registry events are simply not ours.
        return
    event = envelope.open(SubmissionChunkProcessedV1)
    if not await service.record_chunk_result(conn, event):
        # Not ours (another ingest database) or a chunk we never sent: nothing to update.
        log.warning("summary for unknown submission %s chunk %s ignored",
                    event.submission_id, event.chunk)


async def handle_chunks_processed(conn: asyncpg.Connection,
                                  envelopes: Sequence[Envelope]) -> None:
    """The summaries of one fetch, in the caller's one transaction, in delivery order."""
    for envelope in envelopes:
        await handle_chunk_processed(conn, envelope)


async def consume_results(rt: Runtime) -> None:
    """A fetch waits at most ``results_linger`` (50 ms) for more summaries, not the bus's
    default second for a full batch. The registry answers a chunk at a time, and each
    answer frees a slot of its publisher's window (``max_inflight_chunks``) or ends a
    village's wait, so it must not sit a second in a fetch."""
    await bus.run_consumer(
        js=rt.js, ns=rt.ns, pool=rt.pool, durable=DURABLE, stream="REGISTRY",
        subjects=[SubmissionChunkProcessedV1.subject], batch_handler=handle_chunks_processed,
        handler=handle_chunk_processed, batch=rt.settings.consumer_batch,
        linger=rt.settings.results_linger)


async def handle_dead_letter(conn: asyncpg.Connection, envelope: Envelope) -> None:
    letter = envelope.open(DeadLetterV1)
    if await service.record_dead_letter(conn, letter):
        log.warning("a chunk ended in DEADLETTER (%s): %s", letter.consumer, letter.reason)


async def consume_dead_letters(rt: Runtime) -> None:
    """Chunks that ended in DEADLETTER make their submission final (failed or partial)."""
    await bus.run_consumer(
        js=rt.js, ns=rt.ns, pool=rt.pool, durable=DEAD_LETTERS, stream="DEADLETTER",
        subjects=[DeadLetterV1.subject], handler=handle_dead_letter,
        batch=rt.settings.consumer_batch)
