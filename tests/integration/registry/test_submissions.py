"""Submission chunks consumed from JetStream become master records with history."""

import uuid

import httpx
import nats

from shared import bus
from shared.contracts import (
    Envelope, RecordsChangedV1, SubmissionChunkProcessedV1, SubmissionChunkV1,
)
from tests.helpers import eventually, signed

DESA = "64.08.04.2001"


async def _publish_chunk(settings, rows, publisher="disdukcapil", submission_id=None,
                         event_id=None):
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    ns = bus.Namespace(settings.nats_namespace)
    await bus.ensure_streams(js, ns)
    chunk = SubmissionChunkV1(submission_id=submission_id or uuid.uuid4(),
                              dataset="jumlah-penduduk", publisher_id=publisher, chunk=0,
                              chunks=1, row_offset=0, rows=rows)
    envelope = Envelope.wrap(chunk, event_id=event_id)
    await bus.publish(js, ns, envelope)
    await nc.close()
    return chunk, envelope


async def _summaries(settings, submission_id):
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    ns = bus.Namespace(settings.nats_namespace)
    sub = await js.pull_subscribe(ns.subject(SubmissionChunkProcessedV1.subject),
                                  stream=ns.stream("REGISTRY"))
    found = []
    try:
        msgs = await sub.fetch(100, timeout=1)
    except Exception:
        msgs = []
    for m in msgs:
        env = Envelope.model_validate_json(m.data)
        event = env.open(SubmissionChunkProcessedV1)
        if event.submission_id == submission_id:
            found.append(event)
    await nc.close()
    return found


async def test_chunk_becomes_master_records_and_summary(registry):
    settings = registry["settings"]
    rows = [{"region": DESA, "period": "2024", "jenis_kelamin": "L", "jumlah": 1234},
            {"region": "6404030001", "period": "2024", "jenis_kelamin": "P", "jumlah": 99},
            {"region": "Desa Tak Ada", "period": "2024", "jenis_kelamin": "P", "jumlah": 5}]
    chunk, _ = await _publish_chunk(settings, rows)

    async def records():
        async with httpx.AsyncClient(auth=signed()) as client:
            r = await client.get(f"{registry['url']}/v1/datasets/jumlah-penduduk/records",
                                 params={"period": "2024"})
        return r.json()["items"] if len(r.json()["items"]) == 2 else None

    items = await eventually(records)
    assert {i["region_code"] for i in items} >= {DESA}
    summaries = await eventually(lambda: _summaries(settings, chunk.submission_id))
    counts = summaries[0].counts
    assert (counts.created, counts.rejected) == (2, 1)
    assert summaries[0].rejected_rows[0].index == 2
    assert summaries[0].rejected_rows[0].code == "region_unknown"


async def test_redelivered_chunk_changes_nothing(registry):
    settings = registry["settings"]
    rows = [{"region": DESA, "period": "2024", "jenis_kelamin": "L", "jumlah": 10}]
    chunk, envelope = await _publish_chunk(settings, rows)
    pool = registry["pool"]
    await eventually(lambda: pool.fetchval("SELECT count(*) FROM registry.records"))
    # the same event again, as a redelivery after a crash would bring it (new Nats-Msg-Id window
    # aside, the inbox must stop it)
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    ns = bus.Namespace(settings.nats_namespace)
    await js.publish(ns.subject(envelope.type), envelope.model_dump_json().encode())
    await nc.close()
    await eventually(lambda: _summaries(settings, chunk.submission_id))
    versions = await pool.fetchval("SELECT count(*) FROM registry.record_versions")
    assert versions == 1
    assert await pool.fetchval("SELECT max(version) FROM registry.records") == 1


async def test_non_authoritative_difference_opens_conflict(registry):
    settings = registry["settings"]
    pool = registry["pool"]
    await _publish_chunk(settings, [{"region": DESA, "period": "2024", "jenis_kelamin": "L",
                                     "jumlah": 100}], publisher="disdukcapil")
    await eventually(lambda: pool.fetchval("SELECT count(*) FROM registry.records"))
    chunk, _ = await _publish_chunk(settings, [{"region": DESA, "period": "2024",
                                                "jenis_kelamin": "L", "jumlah": 120}],
                                    publisher=f"desa-{DESA}")
    summaries = await eventually(lambda: _summaries(settings, chunk.submission_id))
    assert summaries[0].counts.conflicts == 1
    assert await pool.fetchval("SELECT vals->>'jumlah' FROM registry.records") == "100"
    assert await pool.fetchval(
        "SELECT count(*) FROM registry.conflicts WHERE status = 'open'") == 1


async def test_desa_cannot_write_for_another_village(registry):
    settings = registry["settings"]
    chunk, _ = await _publish_chunk(settings, [{"region": "64.08.04.2011", "period": "2024",
                                                "jenis_kelamin": "L", "jumlah": 1}],
                                    publisher=f"desa-{DESA}")
    summaries = await eventually(lambda: _summaries(settings, chunk.submission_id))
    assert summaries[0].rejected_rows[0].code == "region_out_of_scope"
    assert await registry["pool"].fetchval("SELECT count(*) FROM registry.records") == 0


async def test_records_changed_event_is_published_once_per_chunk(registry):
    settings = registry["settings"]
    rows = [{"region": DESA, "period": str(y), "jenis_kelamin": "L", "jumlah": y}
            for y in range(2000, 2020)]
    await _publish_chunk(settings, rows)
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    ns = bus.Namespace(settings.nats_namespace)

    async def events():
        sub = await js.pull_subscribe(ns.subject(RecordsChangedV1.subject),
                                      stream=ns.stream("REGISTRY"))
        try:
            return await sub.fetch(10, timeout=0.5)
        except Exception:
            return None

    msgs = await eventually(events)
    # seed datasets/regions are other subjects; this chunk gives exactly one records event
    assert len(msgs) == 1
    records = Envelope.model_validate_json(msgs[0].data).data["records"]
    assert len(records) == 20
    # each record names its publisher, so search labels its facet without asking
    assert {(r["publisher_id"], r["publisher_name"]) for r in records} == {
        ("disdukcapil", await _publisher_name(registry, "disdukcapil"))}
    await nc.close()


async def _publisher_name(registry, publisher_id: str) -> str:
    async with registry["pool"].acquire() as conn:
        name = await conn.fetchval("SELECT name FROM publishers WHERE id = $1", publisher_id)
    assert name
    return name


async def test_key_resolution_and_revocation(registry):
    key = registry["keys"]["SATUDATA_KEY_DESA"]
    client = httpx.AsyncClient(auth=signed())
    r = await client.post(f"{registry['url']}/internal/v1/auth/resolve", json={"key": key})
    assert r.status_code == 200
    assert r.json()["region_scope"] == DESA
    await registry["pool"].execute("UPDATE registry.api_keys SET revoked_at = now()")
    r = await client.post(f"{registry['url']}/internal/v1/auth/resolve", json={"key": key})
    await client.aclose()
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "revoked_api_key"
