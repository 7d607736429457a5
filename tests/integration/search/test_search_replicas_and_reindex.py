"""Two search processes share the durable consumer; a rebuild equals the live index."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
from fastapi import FastAPI

from satudata.reindex import reindex
from services.search import store
from services.search.sql import facet_counts
from services.search.app import create_app
from shared.contracts import DatasetV1, RecordV1, RegionV1
from shared.db import create_pool
from tests.helpers import eventually, served, signed
from tests.integration.search.conftest import dataset, kutim_regions, query, record


async def test_two_replicas_share_the_consumer_and_both_answer(search_db, search_settings,
                                                                registry_bus):
    apps = [create_app(search_settings), create_app(search_settings)]
    async with served(apps[0]) as url_a, served(apps[1]) as url_b, \
            httpx.AsyncClient(base_url=url_a, auth=signed()) as a, \
            httpx.AsyncClient(base_url=url_b, auth=signed()) as b:
        await registry_bus.regions(kutim_regions())
        n = 40
        for i in range(n):
            await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001",
                                               str(1980 + i), i)])

        async def both_see_all():
            for client in (a, b):
                assert (await query(client, q="sangatta", kind="record"))["total"] == n
            return True
        await eventually(both_see_all, timeout=20)
        handled = [app.state.metrics.registry.get_sample_value(
            "search_events_indexed_total", {"kind": "records"}) or 0 for app in apps]
        assert sum(handled) == n, handled  # each event indexed once, by one of the two
        inbox = await search_db.fetchval("SELECT count(*) FROM inbox")
        assert inbox == n + 1


def snapshot_app(regions: list[RegionV1], datasets: list[DatasetV1],
                 records: list[RecordV1]) -> FastAPI:
    """The registry's GET /internal/v1/snapshot/{kind}, served from the same events (the
    registry's own endpoint needs its whole import path; this keeps the test to search)."""
    app = FastAPI()
    latest: dict[uuid.UUID, RecordV1] = {}
    for r in records:
        if r.record_id not in latest or latest[r.record_id].version < r.version:
            latest[r.record_id] = r
    current = sorted((r for r in latest.values() if r.status == "current"),
                     key=lambda r: str(r.record_id))

    @app.get("/v1/publishers")
    async def publishers():
        return {"items": [{"id": "disdukcapil", "name": "Dinas Kependudukan dan Catatan Sipil"}],
                "next_cursor": None}

    @app.get("/internal/v1/snapshot/{kind}")
    async def snapshot(kind: str, cursor: str | None = None, limit: int = 1000):
        if kind == "regions":
            return {"items": [r.model_dump(mode="json") for r in regions], "next_cursor": None}
        if kind == "datasets":
            return {"items": [d.model_dump(mode="json") for d in datasets],
                    "next_cursor": None}
        rest = [r for r in current if cursor is None or str(r.record_id) > cursor][:limit]
        return {"items": [r.model_dump(mode="json") for r in rest],
                "next_cursor": str(rest[-1].record_id) if len(rest) == limit else None}
    return app


async def test_reindex_produces_the_same_documents_as_the_live_index(
        search_app, registry_bus, pg_server_url, search_settings):
    regions = kutim_regions()
    datasets = [dataset("jumlah-penduduk", "Jumlah Penduduk", version=2),
                dataset("jumlah-sekolah", "Jumlah Sekolah Dasar", topic="pendidikan")]
    desa = [r for r in regions if r.level == "desa"][:30]
    records = [record("jumlah-penduduk", d.code, p, i) for i, d in enumerate(desa)
               for p in ("2023", "2024")]
    records += [record("jumlah-sekolah", d.code, "2024", 3) for d in desa[:10]]
    changed = [records[0].model_copy(update={"version": 2, "values": {"jumlah": 99}}),
               records[1].model_copy(update={"version": 2, "status": "retracted"})]
    # live: out of order, with a stale dataset version after the newer one
    await registry_bus.records(records[:20])
    await registry_bus.datasets(*datasets)
    await registry_bus.regions(regions)
    await registry_bus.records(records[20:])
    await registry_bus.records(changed)
    await registry_bus.datasets(dataset("jumlah-penduduk", "Judul Lama", version=1))
    pool = search_app["pool"]
    expected_live = len(records) - 1

    async def settled():
        n = await pool.fetchval("SELECT count(*) FROM documents WHERE kind = 'record'")
        assert n == expected_live, n
        assert await pool.fetchval(
            "SELECT \"values\" FROM documents WHERE doc_id = $1",
            f"record:{records[0].record_id}") == {"jumlah": 99}
        return await pool.fetchval("SELECT count(*) FROM inbox") == 6
    await eventually(settled, timeout=20)
    async with pool.acquire() as conn:
        live = await store.documents_fingerprint(conn)
        live_counts = await facet_counts.kept(conn)

    name = f"t_{uuid.uuid4().hex[:12]}"
    base = pg_server_url.rpartition("/")[0]
    admin = await asyncpg.connect(f"{base}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        async with served(snapshot_app(regions, datasets, records + changed)) as url:
            counts = await asyncio.to_thread(reindex, registry_url=url,
                                             database_url=f"{base}/{name}", page=7)
        assert counts == {"regions": len(regions), "datasets": 2, "records": expected_live}
        rebuilt_pool = await create_pool(f"{base}/{name}", "search")
        async with rebuilt_pool.acquire() as conn:
            rebuilt = await store.documents_fingerprint(conn)
            rebuilt_counts = await facet_counts.kept(conn)
        await rebuilt_pool.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    assert len(rebuilt) == len(live)
    assert rebuilt == live
    assert len(live_counts) > 100 and rebuilt_counts == live_counts  # the kept counts too
    # rebuilt over itself: the kept counts (words' and cells') go with the documents' TRUNCATE
    async with served(snapshot_app(regions, datasets, records + changed)) as url:
        await asyncio.to_thread(reindex, registry_url=url,
                                database_url=search_settings.database_url, page=7)
    async with pool.acquire() as conn:
        assert await facet_counts.kept(conn) == live_counts
