"""The registry's JetStream consumer: submission chunks from ingest become master records.

The chunks of one fetch (of one dataset or several) are applied in one transaction
(``shared.bus.run_consumer`` with a batch handler): one commit, one inbox row per event and
one ``applied_chunks`` row per chunk, so exactly-once holds as before. Each chunk still goes
through the one use case, ``apply.process_chunk``. If anything in the shared transaction fails,
it is rolled back and the fetch's chunks take the one-by-one path (``handle_chunk``) with the
decision table of ``shared.bus_failures``: the faulty chunk is dead-lettered or waited for, the
others are applied.
"""

from __future__ import annotations

from typing import Sequence

import asyncpg

from services.registry.publishing import service as apply
from services.registry.regions import service as regions
from shared import bus
from shared.contracts import Envelope, SubmissionChunkV1
from shared.runtime import Runtime

DURABLE = "registry-submissions"


async def handle_chunk(conn: asyncpg.Connection, envelope: Envelope) -> None:
    """One chunk in its own transaction (the fallback, and what tests call)."""
    chunk = envelope.open(SubmissionChunkV1)
    await apply.process_chunk(conn, chunk)


async def handle_chunks(conn: asyncpg.Connection, envelopes: Sequence[Envelope]) -> None:
    """Every new chunk of one fetch, in the caller's one transaction, in delivery order."""
    chunks = [e.open(SubmissionChunkV1) for e in envelopes]  # a bad one fails the batch
    with regions.shared_region_index(conn):  # the region table is read once per fetch
        for chunk in chunks:
            await apply.process_chunk(conn, chunk)


async def consume_submissions(rt: Runtime) -> None:
    await bus.run_consumer(
        js=rt.js, ns=rt.ns, pool=rt.pool, durable=DURABLE, stream="INGEST",
        subjects=[SubmissionChunkV1.subject], batch_handler=handle_chunks,
        handler=handle_chunk, batch=rt.settings.consumer_batch,
        linger=rt.settings.consumer_linger, ack_wait=rt.settings.consumer_ack_wait,
    )
