"""Fair under load: a publisher's own backlog is bounded (429 backlog_full with
Retry-After, others unaffected), and a village's row is not queued behind another publisher's
backlog (the relay sends publishers in turn, a few chunks each in flight). Real PostgreSQL,
NATS, registry and ingest servers."""

from __future__ import annotations

import json
import uuid

import pytest

from services.ingest import store
from tests.helpers import eventually
from tests.integration.ingest.conftest import (DESA, final_status, post_rows, principal,
                                               rows)

DINAS = principal("dinas-kependudukan", scope="64.08")  # a regency office with a big backlog


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the registry consumes this module's chunks


async def test_a_village_row_is_applied_before_most_of_another_publishers_backlog(
        ingest_settings, start_ingest, ingest_db):
    # 200 chunks of 2 rows from the regency office are being applied when one row comes from
    # a village: at most a window's worth of the backlog (4 chunks here) is ahead of it.
    settings = ingest_settings.model_copy(update={"max_inflight_chunks": 4})
    applied_sql = ("SELECT submission_id FROM registry.applied_chunks "
                   "WHERE submission_id = ANY($1::uuid[]) ORDER BY applied_at, chunk")
    async with start_ingest(settings) as client:
        backlog = await post_rows(client, rows(400), DINAS)
        assert backlog.status_code == 202, backlog.text
        assert backlog.json()["chunks"] == 200
        backlog_id = uuid.UUID(backlog.json()["id"])

        async def draining():
            return len(await ingest_db.fetch(applied_sql, [backlog_id])) >= 3
        await eventually(draining, timeout=60)

        village = await post_rows(client, [{"region": DESA, "period": "2030",
                                        "jenis_kelamin": "L", "jumlah": 7}], principal())
        assert village.status_code == 202, village.text
        village_id = uuid.UUID(village.json()["id"])
        # Counted after the village's row was accepted: an upper bound of what went first.
        already = len(await ingest_db.fetch(applied_sql, [backlog_id]))
        done = await final_status(client, village.json()["status_url"], principal())
        assert done["status"] == "completed" and done["counts"]["created"] == 1
        await final_status(client, backlog.json()["status_url"], DINAS)

    # Order of application in the registry, never time.
    order = [r["submission_id"] for r in await ingest_db.fetch(applied_sql,
                                                               [village_id, backlog_id])]
    assert len(order) == 201  # every chunk applied, once
    assert already < 150, "the backlog drained before the village row came: nothing to prove"
    ahead = order.index(village_id) - already
    assert ahead <= 12, f"the village row waited behind {ahead} more chunks of the backlog"


async def _accepted(conn, publisher_id: str, chunks: int, rows_per_chunk: int = 2) -> uuid.UUID:
    """A submission of ``chunks`` chunks written as ingest writes one (rows, chunks, outbox)."""
    submission = uuid.uuid4()
    await store.insert_submission(conn, id=submission, publisher_id=publisher_id,
                                  key_id=f"key-{publisher_id}", dataset="jumlah-penduduk",
                                  source="json", filename=None, idempotency_key=None,
                                  request_id=None)
    n = chunks * rows_per_chunk
    await store.copy_rows(conn, submission, [
        (i, i // rows_per_chunk, json.dumps(row)) for i, row in enumerate(rows(n))])
    await store.finish_submission(conn, id=submission, publisher_id=publisher_id,
                                  dataset="jumlah-penduduk", rows=n, chunks=chunks,
                                  content_hash=submission.hex, warnings=[], request_id=None)
    return submission


async def _send(conn, window: int) -> list[uuid.UUID]:
    """One relay round without NATS: what ``claim_in_turn`` picks is marked sent, in order."""
    async with conn.transaction():
        claimed = await store.claim_in_turn(conn, 200, window)
        ids = [r["id"] for r in claimed]
        await conn.execute("UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])", ids)
        return await conn.fetchval(
            """SELECT coalesce(array_agg(c.submission_id ORDER BY array_position($1, o.id)),
                               '{}')
               FROM outbox o JOIN submission_chunks c USING (event_id)
               WHERE o.id = ANY($1::bigint[])""", ids)


async def _answer_oldest(conn) -> None:
    """The registry answers the oldest chunk it was sent (JetStream's order)."""
    await conn.execute(
        """UPDATE submission_chunks SET processed_at = now() WHERE event_id = (
               SELECT c.event_id FROM submission_chunks c JOIN outbox o USING (event_id)
               WHERE o.sent_at IS NOT NULL AND c.processed_at IS NULL ORDER BY o.id LIMIT 1)""")


async def test_a_village_chunk_is_sent_before_the_rest_of_a_full_window_publishers_backlog(
        ingest_db):
    # Count order, no NATS and no clock: the relay's claims, with the registry answering one
    # chunk between rounds. 40 chunks of the regency office wait, its window (3) is full.
    window = 3
    async with ingest_db.acquire() as conn:
        async with conn.transaction():
            backlog = await _accepted(conn, DINAS.publisher_id, 40)
        sent = await _send(conn, window)
        assert sent == [backlog] * window  # no more than the window goes out at once
        for _ in range(5):
            await _answer_oldest(conn)
            sent += await _send(conn, window)
        async with conn.transaction():
            village = await _accepted(conn, principal().publisher_id, 1, rows_per_chunk=1)
        arrived = len(sent)
        while len(sent) < 41:
            await _answer_oldest(conn)
            sent += await _send(conn, window)
            answered = await conn.fetchval(
                "SELECT count(*) FROM submission_chunks WHERE processed_at IS NOT NULL")
            assert len(sent) - answered <= window + 1  # the backlog's window, and the village's

    assert sent.count(backlog) == 40 and sent.count(village) == 1
    # The first chunk sent after the village's row arrived is the village's: none of the 32
    # chunks of the backlog still waiting went before it.
    assert sent.index(village) == arrived
