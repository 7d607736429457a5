"""A submission always ends, and a chunk without an answer is sent again.

No registry consumes these chunks (the registry fixture has a namespace of its own): the test
plays the registry by publishing summaries and dead letters itself.
"""

from __future__ import annotations

import asyncio
import uuid

from services.ingest import store
from shared import bus
from shared.contracts import (
    DeadLetterV1, Envelope, ImportCounts, SubmissionChunkProcessedV1, SubmissionChunkV1,
)
from tests.helpers import eventually
from tests.integration.ingest.conftest import auth
from tests.integration.ingest.test_submissions import _publish_processed, submit


async def _status(client, sid):
    return (await client.get(f"/v1/submissions/{sid}", headers=auth())).json()


async def test_an_unanswered_submission_shows_stalled_since_and_is_republished(
        ingest_settings, start_ingest, ingest_db, nats_url, nats_namespace):
    settings = ingest_settings.model_copy(update={"stall_after": 0.5, "republish_after": 0.5,
                                                  "reconcile_interval": 0.2})
    async with start_ingest(settings) as client:
        sid = (await submit(client, 3)).json()["id"]  # two chunks
        first_ids = set(await ingest_db.fetch(
            "SELECT event_id FROM submission_chunks WHERE submission_id = $1", uuid.UUID(sid)))

        async def stalled():
            s = await _status(client, sid)
            return s["stalled_since"] is not None and s

        s = await eventually(stalled, timeout=15)
        assert s["status"] in ("received", "processing") and s["chunks_processed"] == 0

        async def republished():
            return await ingest_db.fetchval(
                "SELECT min(republished) FROM submission_chunks WHERE submission_id = $1",
                uuid.UUID(sid)) >= 1
        await eventually(republished, timeout=15)
        # under new event ids, published (a new Nats-Msg-Id escapes the duplicate window)
        rows = await ingest_db.fetch(
            "SELECT c.event_id, o.sent_at FROM submission_chunks c "
            "JOIN outbox o USING (event_id) WHERE c.submission_id = $1", uuid.UUID(sid))
        assert not first_ids & {r["event_id"] for r in rows}
        sent = await eventually(lambda: _chunk_messages(nats_url, nats_namespace, sid),
                                timeout=15)
        by_chunk: dict[int, list] = {}
        for m in sent:
            by_chunk.setdefault(m.chunk, []).append((m.row_offset, m.rows))
        assert all(len(set(map(repr, v))) == 1 for v in by_chunk.values())  # the same rows

        # the registry answers: the submission ends and is never sent again
        await _publish_processed(nats_url, nats_namespace, [
            SubmissionChunkProcessedV1(submission_id=sid, chunk=c, chunks=2,
                                       counts=ImportCounts(created=1)) for c in (0, 1)])

        async def completed():
            s = await _status(client, sid)
            return s["status"] == "completed" and s
        s = await eventually(completed, timeout=15)
        assert s["stalled_since"] is None and s["chunks_processed"] == 2
        count = await ingest_db.fetchval(
            "SELECT sum(republished) FROM submission_chunks WHERE submission_id = $1",
            uuid.UUID(sid))
        await asyncio.sleep(1.5)  # several reconciler rounds
        assert await ingest_db.fetchval(
            "SELECT sum(republished) FROM submission_chunks WHERE submission_id = $1",
            uuid.UUID(sid)) == count


async def _chunk_messages(nats_url, namespace, sid) -> list[SubmissionChunkV1]:
    """Chunk messages of this submission in the INGEST stream; more than its two chunks."""
    nc = await bus.connect(nats_url, "ingest-test")
    try:
        js = nc.jetstream()
        ns = bus.Namespace(namespace)
        info = await js.stream_info(ns.stream("INGEST"))
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(ns.stream("INGEST"), seq)
            chunk = Envelope.model_validate_json(msg.data).open(SubmissionChunkV1)
            if str(chunk.submission_id) == sid:
                found.append(chunk)
        return found if len(found) > 2 else None
    finally:
        await nc.close()


async def test_dead_lettered_chunks_make_the_submission_final_with_reasons(
        client, nats_url, nats_namespace):
    sid = (await submit(client, 3)).json()["id"]  # two chunks, both refused
    for chunk in (0, 1):
        original = Envelope.wrap(SubmissionChunkV1(
            submission_id=sid, dataset="jumlah-penduduk", publisher_id="x", chunk=chunk,
            chunks=2, row_offset=chunk * 2, rows=[{}]))
        letter = DeadLetterV1(consumer="registry-submissions",
                              original_subject=SubmissionChunkV1.subject,
                              reason=f"InvalidParameterValueError: bagian {chunk} ditolak",
                              payload=original.model_dump_json())
        await _publish_letter(nats_url, nats_namespace, letter)

    async def failed():
        s = await _status(client, sid)
        return s["status"] == "failed" and s
    s = await eventually(failed, timeout=15)
    assert [c["chunk"] for c in s["chunks_failed"]] == [0, 1]
    assert "bagian 0 ditolak" in s["chunks_failed"][0]["reason"]
    assert "registry-submissions" in s["error"]


async def _publish_letter(nats_url, namespace, letter: DeadLetterV1) -> None:
    nc = await bus.connect(nats_url, "ingest-test")
    try:
        js = nc.jetstream()
        ns = bus.Namespace(namespace)
        await bus.ensure_streams(js, ns)
        await bus.publish(js, ns, Envelope.wrap(letter))
    finally:
        await nc.close()


async def test_a_resent_chunk_is_read_as_its_first_send_was(ingest_settings, start_ingest,
                                                             ingest_db, database_url):
    """The reconciler's re-send is the first send's event: an ``en`` CSV's ``1,234`` stays one
    thousand two hundred thirty-four, and an XLSX chunk keeps its sheet and lines."""
    from services.registry.publishing.apply import process_chunk
    from shared.db import create_pool
    from tests.integration.ingest.test_uploads import XLSX, xlsx_bytes

    settings = ingest_settings.model_copy(update={"republish_after": 0.3,
                                                  "reconcile_interval": 0.1, "chunk_rows": 500})
    desa = "64.08.04.2001"
    async with start_ingest(settings) as client:
        csv_text = f'region,period,jenis_kelamin,jumlah\n{desa},2019,L,"1,234"\n'
        en = await client.post("/v1/submissions?dataset=jumlah-penduduk&locale=en",
                               content=csv_text, headers={**auth(), "Content-Type": "text/csv"})
        assert en.status_code == 202, en.text
        data = xlsx_bytes(["Wilayah", "Periode", "Jenis kelamin", "Jumlah"],
                          [[desa, 2019, "P", 1300], ["64.99.99.9999", 2019, "P", 5]])
        sheet = await client.post("/v1/submissions", data={"dataset": "jumlah-penduduk"},
                                  files={"file": ("p.xlsx", data, XLSX)}, headers=auth())
        assert sheet.status_code == 202, sheet.text
        ids = [uuid.UUID(en.json()["id"]), uuid.UUID(sheet.json()["id"])]
        first = {r["submission_id"]: r["event_id"] for r in await ingest_db.fetch(
            "SELECT submission_id, event_id FROM submission_chunks "
            "WHERE submission_id = ANY($1::uuid[])", ids)}

        async def resent():
            got = await ingest_db.fetch(
                "SELECT submission_id, event_id FROM submission_chunks "
                "WHERE submission_id = ANY($1::uuid[]) AND republished >= 1", ids)
            return len(got) == 2 and {r["submission_id"]: r["event_id"] for r in got}
        again = await eventually(resent, timeout=30)

    async def event(event_id) -> SubmissionChunkV1:
        payload = await store.chunk_event(ingest_db, event_id)
        return Envelope.model_validate_json(payload).open(SubmissionChunkV1)

    for sid in ids:  # the same event, under a new id
        assert (await event(again[sid])).model_dump() == (await event(first[sid])).model_dump()
    resent_en, resent_sheet = await event(again[ids[0]]), await event(again[ids[1]])
    assert resent_en.locale == "en" and resent_sheet.sheet == "data"

    registry = await create_pool(database_url, "registry")
    try:
        async with registry.acquire() as conn, conn.transaction():
            await process_chunk(conn, resent_en)
            outcome = await process_chunk(conn, resent_sheet)
        assert await registry.fetchval(
            "SELECT (vals ->> 'jumlah')::int FROM records WHERE region_code = $1 AND "
            "period = '2019' AND dims_key LIKE '%L%'", desa) == 1234
        [rejected] = outcome.rejected
        assert (rejected.line, rejected.sheet) == (3, "data")
    finally:
        await registry.close()


async def test_a_chunk_nats_cannot_carry_fails_its_submission_by_name_and_holds_no_turn(
        ingest_settings, start_ingest, ingest_db, nats_url, nats_namespace):
    """Defence behind the row and cell limits (set wide here): a chunk over NATS's payload
    limit goes to the dead letters with its reason and its submission fails naming it; the
    publisher's next chunk is sent (its window is not held by the one that cannot travel)."""
    settings = ingest_settings.model_copy(update={
        "chunk_bytes": 4 << 20, "max_cell_bytes": 4 << 20, "max_inflight_chunks": 1})
    async with start_ingest(settings) as client:
        big = await client.post("/v1/submissions", headers=auth(), json={
            "dataset": "jumlah-penduduk", "rows": [{"region": "64.08.04.2001", "period": "2020",
                                                    "jenis_kelamin": "L",
                                                    "jumlah": "1" * 1_500_000}]})
        assert big.status_code == 202, big.text
        small = (await submit(client, 1)).json()["id"]

        async def failed():
            s = await _status(client, big.json()["id"])
            return s["status"] == "failed" and s
        s = await eventually(failed, timeout=30)
        assert "melebihi batas NATS" in s["chunks_failed"][0]["reason"], s
        assert "outbox-relay" in s["error"]

        async def sent():
            return await ingest_db.fetchval(
                "SELECT o.sent_at IS NOT NULL FROM submission_chunks c JOIN outbox o "
                "USING (event_id) WHERE c.submission_id = $1", uuid.UUID(small))
        await eventually(sent, timeout=30)
