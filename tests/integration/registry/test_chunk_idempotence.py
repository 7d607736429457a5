"""A chunk is applied once per (submission, chunk), whatever event id carries it."""

from __future__ import annotations

import uuid

from tests.helpers import eventually
from tests.integration.registry.test_submissions import DESA, _publish_chunk, _summaries


async def test_a_chunk_republished_under_a_new_event_id_is_applied_once(registry):
    settings, pool = registry["settings"], registry["pool"]
    rows = [{"region": DESA, "period": "2024", "jenis_kelamin": "L", "jumlah": 10}]
    chunk, first = await _publish_chunk(settings, rows)
    await eventually(lambda: _summaries(settings, chunk.submission_id))
    # ingest's reconciler (or a dead-letter replay) sends the same chunk with new values
    # under a new event id: JetStream's duplicate window and the inbox both let it through
    changed = [{**rows[0], "jumlah": 11}]
    _, second = await _publish_chunk(settings, changed, submission_id=chunk.submission_id,
                                     event_id=uuid.uuid4())
    assert second.event_id != first.event_id

    async def two_summaries():
        found = await _summaries(settings, chunk.submission_id)
        return len(found) == 2 and found
    found = await eventually(two_summaries, timeout=15)
    assert found[0] == found[1]  # the first summary, sent again
    assert await pool.fetchval("SELECT count(*) FROM registry.record_versions") == 1
    assert await pool.fetchval("SELECT vals->>'jumlah' FROM registry.records") == "10"
