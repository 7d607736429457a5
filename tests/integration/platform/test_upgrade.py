"""Upgrading a populated platform: the previous release's schema (each service at the migration
head it shipped), 100,000 records loaded set-based with their history and hash chains, an audit
log, held values, signed receipts and a submission still on its way; then every migration since
runs once, and every figure, version, hash link, receipt and audit entry reads the same.

SAMPLE (data contoh) values only.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg

from satudata.verify import verify_database
from services.registry.access import service as access
from services.registry.bootstrap import seed as registry_seed
from services.registry.datasets import store as datasets_store
from services.registry.regions import reference
from services.registry.app import create_app as create_registry
from services.registry.audit import store as audit_store
from services.registry.publishing import apply
from services.registry.settings import RegistrySettings
from shared import receipts
from shared.contracts import DatasetSchemaV1, SubmissionChunkV1
from shared.db import create_pool, run_migrations
from tests.conftest import ROOT
from tests.helpers import served, signed

# what the release before these migrations shipped: each service's migration head
PREVIOUS_HEADS = {"registry": "0009", "ingest": "0004", "search": "0007"}
RECORDS = 100_000
PERIODS = [str(y) for y in range(2015, 2025)]


async def _migrate(url: str, heads: dict[str, str] | None = None) -> None:
    for service in ("registry", "ingest", "search"):
        await asyncio.to_thread(run_migrations, ROOT / "services" / service, url,
                                (heads or {}).get(service, "head"))


async def _seed_previous(pool: asyncpg.Pool) -> None:
    """What the previous release's seed wrote, into its schema: the regions, the publishers,
    the demo dataset and the development keys (through today's code for tables that have not
    changed since; region changes and their events came later, so neither is written)."""
    async with pool.acquire() as conn, conn.transaction():
        await reference.load_regions(conn)
        for publisher in registry_seed.PUBLISHERS:
            await access.add_publisher(conn, publisher)
        # the dataset's row and event only: today's answer reads functions of later migrations
        await datasets_store.insert_dataset(conn, {
            **registry_seed.DEMO_DATASET,
            "schema": DatasetSchemaV1.model_validate(registry_seed.DEMO_DATASET["schema"])})
        await registry_seed.ensure_dev_keys(conn, {})


async def _populate(conn: asyncpg.Connection) -> dict:
    """The previous release's data, set-based: records with a first version each and a second
    for every tenth, chained by the database's own hash function; a version whose
    verification note was written after its hash (what that release did); held values; audit
    entries; a final submission with its signed receipt and one whose chunk is in flight."""
    dataset_id = await conn.fetchval(
        "SELECT id FROM registry.datasets WHERE slug = 'jumlah-penduduk'")
    villages = [r["code"] for r in await conn.fetch(
        "SELECT code FROM registry.regions WHERE level IN ('desa', 'kelurahan') ORDER BY code")]
    await conn.execute("""
        INSERT INTO registry.records (dataset_id, region_code, period, dims_key, dims, vals,
                                      publisher_id)
        SELECT $1, v.code, p.period, 'jenis_kelamin=' || s.sex || ';item=' || n,
               jsonb_build_object('jenis_kelamin', s.sex, 'item', n::text),
               jsonb_build_object('jumlah', 300 + (n * 7 + length(v.code)) % 5000),
               'disdukcapil'
        FROM unnest($2::text[]) v(code), unnest($3::text[]) p(period),
             (VALUES ('L'), ('P')) s(sex), generate_series(0, $4 - 1) n
        LIMIT $5""", dataset_id, villages, PERIODS,
        RECORDS // (len(villages) * len(PERIODS) * 2) + 1, RECORDS)
    await conn.execute("""
        UPDATE registry.records SET hash = registry.version_hash(NULL, id, dataset_id,
            region_code, period, dims_key, 1, vals, status, publisher_id, submission_id, NULL,
            NULL, updated_at)""")
    await conn.execute("""
        INSERT INTO registry.record_versions (record_id, version, vals, status, publisher_id,
                                              submission_id, recorded_at, seq, hash)
        SELECT id, 1, vals, status, publisher_id, submission_id, updated_at, seq, hash
        FROM registry.records""")
    # a second version of every tenth record, chained to the first
    await conn.execute("""
        WITH up AS (
          UPDATE registry.records r SET version = 2, vals = jsonb_build_object('jumlah',
                 (r.vals ->> 'jumlah')::int + 1), seq = nextval('registry.record_seq'),
                 updated_at = now(),
                 hash = registry.version_hash(r.hash, r.id, r.dataset_id, r.region_code,
                     r.period, r.dims_key, 2, jsonb_build_object('jumlah',
                     (r.vals ->> 'jumlah')::int + 1), 'current', r.publisher_id,
                     r.submission_id, NULL, NULL, now())
          WHERE r.seq % 10 = 0
          RETURNING r.*)
        INSERT INTO registry.record_versions (record_id, version, vals, status, publisher_id,
                                              submission_id, recorded_at, seq, hash)
        SELECT id, version, vals, status, publisher_id, submission_id, updated_at, seq, hash
        FROM up""")
    # what the previous release did on verification: the note written after the hash
    await conn.execute("""
        UPDATE registry.record_versions SET reason = 'Diverifikasi walidata (walidata)'
        WHERE version = 2 AND record_id IN (SELECT id FROM registry.records
                                            WHERE version = 2 ORDER BY seq LIMIT 5)""")
    await conn.execute("""
        INSERT INTO registry.held_values (dataset_id, record_id, region_code, period, dims,
               dims_key, vals, base_vals, publisher_id, reasons)
        SELECT dataset_id, id, region_code, period, dims, dims_key, '{"jumlah": 99999}', vals,
               'disdukcapil', '[{"kind": "policy", "code": "policy_verifikasi"}]'
        FROM registry.records ORDER BY seq LIMIT 3""")
    await conn.execute("SET search_path = registry, public")  # as the registry's pool has it
    for n in range(3):
        await audit_store.append(conn, actor="walidata", key_id="key_1", role="walidata",
                                 action="key.create", target=f"key_{n}",
                                 details={"label": f"kunci {n}"}, client_addr="203.0.113.9",
                                 request_id=None)
    await conn.execute("RESET search_path")
    return {"villages": villages, "dataset_id": dataset_id}


async def _ingest_state(conn: asyncpg.Connection) -> tuple[bytes, dict, uuid.UUID]:
    """A final submission with its signed receipt, and one whose chunk is still in the outbox
    (an ``en`` XLSX: the first event says how its rows are read)."""
    signer = receipts.Signer(receipts.load_private(receipts.generate_pem()))
    done, flowing = uuid.uuid4(), uuid.uuid4()
    for sid, status in ((done, "completed"), (flowing, "processing")):
        await conn.execute(
            "INSERT INTO ingest.submissions (id, publisher_id, key_id, dataset, source, status, "
            "rows, chunks) VALUES ($1, 'disdukcapil', 'key_1', 'jumlah-penduduk', 'xlsx', $2, "
            "1, 1)", sid, status)
    body = signer.sign({"type": "satudata.receipt.v1", "submission_id": str(done)})
    await conn.execute(
        "INSERT INTO ingest.receipts (submission_id, key_id, final_at, body) "
        "VALUES ($1, $2, now(), $3)", done, signer.key_id, body)
    event_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO ingest.submission_chunks (submission_id, chunk, row_offset, rows, event_id)"
        " VALUES ($1, 0, 0, 1, $2)", flowing, event_id)
    envelope = {"event_id": str(event_id), "type": SubmissionChunkV1.subject,
                "occurred_at": "2026-12-01T00:00:00Z", "data": {
                    "submission_id": str(flowing), "dataset": "jumlah-penduduk",
                    "publisher_id": "disdukcapil", "chunk": 0, "chunks": 1, "row_offset": 0,
                    "rows": [{"region": "64.08.04.2001", "period": "2019", "jenis_kelamin": "L",
                              "jumlah": "1,234", "_line": 2}],
                    "locale": "en", "sheet": "data"}}
    await conn.execute("INSERT INTO ingest.outbox (event_id, subject, payload) "
                       "VALUES ($1, $2, $3::text::jsonb)", event_id, SubmissionChunkV1.subject,
                       json.dumps(envelope))
    await conn.execute("INSERT INTO ingest.submission_rows (submission_id, idx, chunk, row) "
                       "VALUES ($1, 0, 0, $2::text::jsonb)", flowing,
                       json.dumps(envelope["data"]["rows"][0]))
    return body, signer.keys_document(), flowing


READINGS = {
    "figures": """SELECT period, count(*), sum((vals ->> 'jumlah')::bigint)
                  FROM registry.records GROUP BY period ORDER BY period""",
    "versions": """SELECT count(*), md5(string_agg(record_id::text || version || vals::text ||
                          encode(hash, 'hex') || coalesce(reason, ''), ',' ORDER BY seq))
                   FROM registry.record_versions""",
    "heads": """SELECT md5(string_agg(id::text || version || encode(hash, 'hex'), ','
                                      ORDER BY id)) FROM registry.records""",
    "audit": """SELECT id, action, target, encode(prev_hash, 'hex'), encode(hash, 'hex')
                FROM registry.audit_log ORDER BY id""",
    "held": "SELECT id, status, vals::text FROM registry.held_values ORDER BY id",
    "receipts": "SELECT submission_id, key_id, body FROM ingest.receipts ORDER BY 1",
    "keys": "SELECT id, key_hash, revoked_at FROM registry.api_keys ORDER BY id",
}


async def _read(conn: asyncpg.Connection) -> dict:
    return {name: [tuple(r) for r in await conn.fetch(sql)] for name, sql in READINGS.items()}


async def test_the_previous_release_upgrades_with_100000_records_and_reads_the_same(
        database_url, nats_url, nats_namespace):
    await _migrate(database_url, PREVIOUS_HEADS)
    pool = await create_pool(database_url, "registry")
    try:
        await _seed_previous(pool)
    finally:
        await pool.close()
    conn = await asyncpg.connect(database_url)
    try:
        await _populate(conn)
        receipt, keys_document, flowing = await _ingest_state(conn)
        before = await _read(conn)
    finally:
        await conn.close()
    assert before["versions"][0][0] >= RECORDS + RECORDS // 10 - 1
    verified_before = await verify_database(database_url)
    assert verified_before["ok"], verified_before
    assert verified_before["legacy_verified_notes"] == 5

    await _migrate(database_url)  # git pull && make up: every migration since, once
    await _migrate(database_url)  # and a second start changes nothing

    conn = await asyncpg.connect(database_url)
    try:
        after = await _read(conn)
        heads = {s: await conn.fetchval(f"SELECT version_num FROM {s}.alembic_version")
                 for s in PREVIOUS_HEADS}
        reading = await conn.fetchrow("SELECT locale, sheet FROM ingest.submissions "
                                      "WHERE id = $1", flowing)
    finally:
        await conn.close()
    assert heads != PREVIOUS_HEADS and all(heads.values())
    assert after == before  # figures, versions, hash links, audit, held values, receipts, keys
    report = await verify_database(database_url)
    assert report["ok"] and report["legacy_verified_notes"] == 5, report
    ok, why, _ = receipts.verify(receipt, receipts.public_keys(keys_document))
    assert ok, why
    assert tuple(reading) == ("en", "data")  # the chunk in flight is re-sent as first sent

    # the new release works on the upgraded data: a chunk applies, its chain stays valid,
    # and the registry answers the same figure the database holds
    pool = await create_pool(database_url, "registry")
    try:
        async with pool.acquire() as c, c.transaction():
            outcome = await apply.apply_rows(
                c, dataset_slug="jumlah-penduduk", publisher_id="disdukcapil",
                rows=[{"region": "64.08.04.2001", "period": "2014", "jenis_kelamin": "L",
                       "jumlah": 10}])
        assert outcome.counts.created == 1, outcome.counts
        settings = RegistrySettings(database_url=database_url, nats_url=nats_url,
                                    nats_namespace=nats_namespace)
        import httpx

        async with served(create_registry(settings)) as url, httpx.AsyncClient(
                base_url=url, auth=signed(), timeout=30) as client:
            r = await client.get("/v1/aggregates", params={
                "dataset": "jumlah-penduduk", "period": "2020", "measure": "jumlah"})
            assert r.status_code == 200, r.text
            [(_, _, total)] = [f for f in after["figures"] if f[0] == "2020"]
            assert r.json()["value"] == total
            # the Perpres 39 keys the dataset carried are its first statistical metadata
            forms = (await client.get("/v1/datasets/jumlah-penduduk/statistical-metadata")
                     ).json()["published"]
            meta = registry_seed.DEMO_DATASET["metadata"]
            assert (forms["version"], forms["status"]) == (1, "verified")
            assert forms["document"]["kegiatan"]["penyelenggara"] == meta["produsen_data"]
            assert forms["document"]["kegiatan"]["walidata"] == meta["walidata"]
            jumlah = forms["document"]["measures"]["jumlah"]
            assert {k: jumlah[k] for k in ("konsep", "definisi", "satuan", "ukuran",
                                           "klasifikasi_penyajian")} == {
                "konsep": meta["konsep"], "definisi": meta["definisi"],
                "satuan": meta["satuan"], "ukuran": meta["ukuran"],
                "klasifikasi_penyajian": meta["klasifikasi"]}
    finally:
        await pool.close()
    assert (await verify_database(database_url))["ok"]
