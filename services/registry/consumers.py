"""The registry's JetStream consumer: submission chunks from ingest become master records."""

from __future__ import annotations

import asyncpg

from services.registry.records import apply
from shared import bus
from shared.contracts import Envelope, SubmissionChunkV1
from shared.runtime import Runtime

DURABLE = "registry-submissions"


async def handle_chunk(conn: asyncpg.Connection, envelope: Envelope) -> None:
    chunk = envelope.open(SubmissionChunkV1)
    await apply.process_chunk(conn, chunk)


async def consume_submissions(rt: Runtime) -> None:
    await bus.run_consumer(
        js=rt.js, ns=rt.ns, pool=rt.pool, durable=DURABLE, stream="INGEST",
        subjects=[SubmissionChunkV1.subject], handler=handle_chunk,
        batch=rt.settings.consumer_batch, ack_wait=rt.settings.consumer_ack_wait,
    )
