"""Submissions: stored with their outbox in one transaction, published in chunks, summarised."""

from __future__ import annotations

import json

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from services.ingest import store
from shared import bus
from shared.contracts import (Envelope, ImportCounts, RejectedRow, SubmissionChunkProcessedV1,
                              SubmissionChunkV1)
from shared.infra import free_port
from tests.helpers import eventually
from tests.integration.ingest.conftest import DESA_PUBLISHER, auth, principal, rows

DATASET = "jumlah-penduduk"


async def submit(client, n=5, headers=None, **extra):
    return await client.post("/v1/submissions", json={"dataset": DATASET, "rows": rows(n)},
                             headers={**auth(), **(headers or {})}, **extra)


async def test_submission_is_stored_with_one_outbox_event_per_chunk_and_published_with_msg_id(
        ingest_settings, start_ingest, ingest_db, nats_url, nats_namespace):
    # no registry answers here, so the window of chunks in flight (default 2) must hold all 3
    settings = ingest_settings.model_copy(update={"max_inflight_chunks": 3})
    async with start_ingest(settings) as client:
        response = await submit(client, 5)
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "received" and body["rows"] == 5 and body["chunks"] == 3
        assert body["status_url"] == f"/v1/submissions/{body['id']}"

        stored = await ingest_db.fetchval(
            "SELECT count(*) FROM submission_rows WHERE submission_id = $1::uuid", body["id"])
        chunks = await ingest_db.fetch(
            "SELECT chunk, row_offset, rows, event_id FROM submission_chunks "
            "WHERE submission_id = $1::uuid ORDER BY chunk", body["id"])
        outbox_ids = {r["event_id"] for r in await ingest_db.fetch("SELECT event_id FROM outbox")}
        assert stored == 5
        assert [(c["chunk"], c["row_offset"], c["rows"]) for c in chunks] == [(0, 0, 2), (1, 2, 2),
                                                                             (2, 4, 1)]
        assert outbox_ids == {c["event_id"] for c in chunks}
        # the rows are kept once: the outbox holds each chunk's place, the relay joins them in
        assert not await ingest_db.fetchval("SELECT bool_or(payload->'data' ? 'rows') FROM outbox")

        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            ns = bus.Namespace(nats_namespace)
            await bus.ensure_streams(js, ns)
            sub = await js.pull_subscribe(
                ns.subject(SubmissionChunkV1.subject), durable=None, stream=ns.stream("INGEST"),
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL))
            received = []

            async def three_messages():
                try:
                    received.extend(await sub.fetch(3 - len(received), timeout=0.5))
                except nats.errors.TimeoutError:
                    pass
                return len(received) == 3

            await eventually(three_messages)
        finally:
            await nc.close()
        by_chunk = {}
        for msg in received:
            envelope = Envelope.model_validate_json(msg.data)
            chunk = envelope.open(SubmissionChunkV1)
            assert msg.headers["Nats-Msg-Id"] == str(envelope.event_id)
            by_chunk[chunk.chunk] = (envelope.event_id, chunk)
        assert sorted(by_chunk) == [0, 1, 2]
        for c in chunks:
            event_id, chunk = by_chunk[c["chunk"]]
            assert event_id == c["event_id"]
            assert chunk.row_offset == c["row_offset"] and chunk.chunks == 3
            assert chunk.publisher_id == DESA_PUBLISHER and chunk.dataset == DATASET
        assert [r["jumlah"] for i in range(3) for r in by_chunk[i][1].rows] == [1000 + i
                                                                                for i in range(5)]

        async def processing():
            status = (await client.get(body["status_url"], headers=auth())).json()["status"]
            return status == "processing"

        await eventually(processing)


async def test_retry_with_same_idempotency_key_returns_original_and_creates_nothing(
        client, ingest_db):
    first = await submit(client, 3, headers={"Idempotency-Key": "kirim-1"})
    again = await submit(client, 3, headers={"Idempotency-Key": "kirim-1"})
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 1
    assert await ingest_db.fetchval("SELECT count(*) FROM outbox") == 2


async def test_same_idempotency_key_with_different_rows_is_409(client, ingest_db):
    await submit(client, 3, headers={"Idempotency-Key": "kirim-2"})
    response = await submit(client, 4, headers={"Idempotency-Key": "kirim-2"})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in error["message"]
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 1


async def test_idempotency_keys_are_per_publisher(client, ingest_db):
    other = principal("desa-lain", datasets=["jumlah-penduduk"])
    a = await submit(client, 3, headers={"Idempotency-Key": "sama"})
    b = await client.post("/v1/submissions", json={"dataset": DATASET, "rows": rows(3)},
                          headers={**auth(other), "Idempotency-Key": "sama"})
    assert a.status_code == b.status_code == 202
    assert a.json()["id"] != b.json()["id"]


async def test_submission_is_accepted_while_nats_is_unreachable_and_kept_in_outbox(
        ingest_settings, start_ingest, ingest_db):
    settings = ingest_settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{free_port()}"})
    async with start_ingest(settings) as client:
        response = await submit(client, 5)
        assert response.status_code == 202
        status = (await client.get(response.json()["status_url"], headers=auth())).json()
        assert status["status"] == "received"
    unsent = await ingest_db.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    assert unsent == 3


async def test_outbox_kept_while_nats_down_is_published_once_ingest_reaches_nats(
        ingest_settings, start_ingest, ingest_db):
    down = ingest_settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{free_port()}"})
    async with start_ingest(down) as client:
        assert (await submit(client, 4)).status_code == 202
    async with start_ingest(ingest_settings):
        async def all_sent():
            return await ingest_db.fetchval(
                "SELECT count(*) = 0 FROM outbox WHERE sent_at IS NULL")

        await eventually(all_sent)


async def _publish_processed(nats_url, nats_namespace, events):
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        ns = bus.Namespace(nats_namespace)
        await bus.ensure_streams(js, ns)
        for event in events:
            await bus.publish(js, ns, Envelope.wrap(event))
    finally:
        await nc.close()


async def test_processed_summaries_update_status_counts_and_rejected_rows(
        client, nats_url, nats_namespace):
    body = (await submit(client, 5)).json()
    sid = body["id"]

    def summary(chunk, **counts):
        rejected = [RejectedRow(index=chunk * 2 + 1, field="jumlah", code="not_a_number",
                                message="Nilai jumlah 'x' bukan angka.")] if counts.get(
            "rejected") else []
        return SubmissionChunkProcessedV1(submission_id=sid, chunk=chunk, chunks=3,
                                          counts=ImportCounts(**counts), rejected_rows=rejected)

    await _publish_processed(nats_url, nats_namespace, [summary(0, created=1, rejected=1)])

    async def status_is(expected, chunks=None):
        async def check():
            got = (await client.get(f"/v1/submissions/{sid}", headers=auth())).json()
            done = chunks is None or got["chunks_processed"] == chunks
            return got if got["status"] == expected and done else None
        return check

    # "processing" starts when a chunk leaves the outbox, before any summary: wait for ours
    partial = await eventually(await status_is("processing", chunks=1))
    assert partial["chunks_processed"] == 1
    await _publish_processed(nats_url, nats_namespace, [
        summary(1, created=1, updated=1, held=2), summary(2, unchanged=1),
        summary(2, unchanged=1),  # a redelivered summary (new event id) changes nothing more
    ])
    done = await eventually(await status_is("completed"))
    assert done["counts"] == {"created": 2, "updated": 1, "unchanged": 1, "conflicts": 0,
                              "rejected": 1, "held": 2}
    assert done["rejected_rows"] == [{"index": 1, "line": None, "sheet": None, "field": "jumlah",
                                      "code": "not_a_number", "details": None,
                                      "message": "Nilai jumlah 'x' bukan angka."}]


async def test_a_chunk_reporting_an_error_makes_the_submission_partial_once_all_end(
        client, nats_url, nats_namespace):
    sid = (await submit(client, 3)).json()["id"]  # two chunks
    await _publish_processed(nats_url, nats_namespace, [SubmissionChunkProcessedV1(
        submission_id=sid, chunk=0, chunks=2, counts=ImportCounts(), error="dataset dihapus")])

    async def status(expected, answered=0):
        got = (await client.get(f"/v1/submissions/{sid}", headers=auth())).json()
        return got["status"] == expected and len(got["chunks_failed"]) >= answered and got

    # "processing" holds from the moment the chunks are sent: wait until chunk 0's answer has
    # landed too (chunk 1 has not answered yet)
    got = await eventually(lambda: status("processing", answered=1))
    assert got["chunks_failed"] == [{"chunk": 0, "reason": "dataset dihapus"}]
    await _publish_processed(nats_url, nats_namespace, [SubmissionChunkProcessedV1(
        submission_id=sid, chunk=1, chunks=2, counts=ImportCounts(created=1))])
    got = await eventually(lambda: status("partial"))
    assert got["error"] == "dataset dihapus" and got["chunks_processed"] == 2
    assert got["counts"]["created"] == 1 and got["stalled_since"] is None


async def test_only_the_submitters_publisher_or_a_steward_sees_a_submission(client):
    sid = (await submit(client, 1)).json()["id"]
    other = await client.get(f"/v1/submissions/{sid}", headers=auth(principal("desa-lain")))
    steward = await client.get(f"/v1/submissions/{sid}",
                               headers=auth(principal("walidata", role="walidata",
                                                      datasets=[], scope="64.08")))
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "submission_not_yours"
    assert steward.status_code == 200


async def test_listing_shows_only_own_submissions_with_keyset_pages(client):
    ids = [(await submit(client, 1)).json()["id"] for _ in range(3)]
    await client.post("/v1/submissions", json={"dataset": DATASET, "rows": rows(1)},
                      headers=auth(principal("desa-lain")))
    first = (await client.get("/v1/submissions?limit=2", headers=auth())).json()
    second = (await client.get(f"/v1/submissions?limit=2&cursor={first['next_cursor']}",
                               headers=auth())).json()
    seen = [i["id"] for i in first["items"] + second["items"]]
    assert sorted(seen) == sorted(ids)
    assert second["next_cursor"] is None


async def test_dry_run_returns_registry_summary_and_stores_nothing(client, ingest_db):
    response = await client.post(
        "/v1/submissions?dry_run=true",
        json={"dataset": DATASET, "rows": rows(2) + [{"region": "Desa Antah Berantah",
                                                      "period": "2024", "jenis_kelamin": "L",
                                                      "jumlah": 5}]},
        headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True and body["rows"] == 3
    assert body["counts"]["created"] == 2 and body["counts"]["rejected"] == 1
    assert body["rejected_rows"][0]["index"] == 2
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 0
    assert await ingest_db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_chunks_are_bounded_by_bytes_as_well_as_rows(ingest_settings, start_ingest,
                                                           ingest_db):
    settings = ingest_settings.model_copy(update={"chunk_rows": 500, "chunk_bytes": 4096})
    big = [{**r, "region": "Desa " + "x" * 1000} for r in rows(20)]
    async with start_ingest(settings) as client:
        response = await client.post("/v1/submissions",
                                     json={"dataset": DATASET, "rows": big}, headers=auth())
    assert response.status_code == 202
    sent = [json.loads(await store.chunk_event(ingest_db, r["event_id"]))["data"]["rows"]
            for r in await ingest_db.fetch("SELECT event_id FROM outbox")]
    assert len(sent) > 1 and sum(map(len, sent)) == 20
    assert all(len(chunk) <= 4 for chunk in sent)


async def test_concurrent_retries_with_one_idempotency_key_create_one_submission(
        client, ingest_db):
    import asyncio

    answers = await asyncio.gather(*(submit(client, 50, headers={"Idempotency-Key": "balapan"})
                                     for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 202]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 1


async def test_submission_is_accepted_while_the_registry_is_unreachable(
        ingest_settings, start_ingest, ingest_db):
    settings = ingest_settings.model_copy(
        update={"registry_url": f"http://127.0.0.1:{free_port()}"})
    async with start_ingest(settings) as client:
        response = await client.post(
            "/v1/submissions?dataset=jumlah-penduduk",
            content="Kode Wilayah,Tahun,Jenis Kelamin,Jumlah\n64.08.04.2001,2024,L,3\n",
            headers={**auth(), "Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    assert [w["code"] for w in response.json()["warnings"]] == ["registry_unavailable"]
    assert await ingest_db.fetchval("SELECT row FROM submission_rows") == {
        "region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "L", "jumlah": "3",
        "_line": 2}


async def test_a_large_upload_does_not_block_other_requests(ingest_settings, start_ingest):
    """Counted, not timed: while a 100,000-row upload is parsed and stored, the service keeps
    answering other requests (a blocked event loop would answer them only afterwards)."""
    import asyncio

    lines = ["region,period,jenis_kelamin,jumlah"] + [
        f"64.08.04.2001,{2000 + i % 25},{'LP'[i % 2]},{i}" for i in range(100_000)]
    settings = ingest_settings.model_copy(update={"chunk_rows": 500})
    async with start_ingest(settings) as client:
        upload = asyncio.create_task(client.post(
            "/v1/submissions?dataset=jumlah-penduduk", content="\n".join(lines),
            headers={**auth(), "Content-Type": "text/csv"}))
        answered_meanwhile = 0
        while not upload.done():
            assert (await client.get("/healthz")).status_code == 200
            answered_meanwhile += not upload.done()
            await asyncio.sleep(0.01)
        assert (await upload).status_code == 202
    assert answered_meanwhile >= 20  # 396 seen here


async def test_submission_to_a_withdrawn_dataset_is_refused_with_the_reason(client, ingest_db):
    await ingest_db.execute(
        "UPDATE registry.datasets SET retracted_at = now(), retraction_reason = 'Metode keliru'"
        " WHERE slug = 'jumlah-penduduk'")
    r = await client.post("/v1/submissions", json={"dataset": "jumlah-penduduk",
                                                   "rows": rows(1)}, headers=auth())
    assert r.status_code == 410, r.text
    assert r.json()["error"]["code"] == "dataset_retracted"
    assert "Metode keliru" in r.json()["error"]["message"]
    assert await ingest_db.fetchval("SELECT count(*) FROM ingest.submissions") == 0
