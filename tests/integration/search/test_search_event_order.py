"""One index whatever the order: records delivered before their regions' final data (and
before their dataset) index to the same documents as a rebuild from the same copies."""

from __future__ import annotations

import random

from services.search import store
from services.search.sql import facet_counts
from services.search.consumers import DURABLE
from tests.helpers import eventually
from tests.integration.search.conftest import dataset, kutim_regions, record


async def _rebuilt(pool) -> list[dict]:
    """Every document built afresh from search's copies, in a transaction rolled back."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute("DELETE FROM documents")
            await store.build_region_docs(conn, None)
            await store.build_dataset_docs(conn, None)
            await store.build_record_docs(conn)
            return (await store.documents_fingerprint(conn)
                    + [{"count": c} for c in await facet_counts.kept(conn)])
        finally:
            await tx.rollback()


async def _settled(registry_bus) -> bool:
    info = await registry_bus.js.consumer_info(registry_bus.ns.stream("REGISTRY"), DURABLE)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_records_before_their_regions_final_data_index_like_a_rebuild(
        search_app, registry_bus):
    regions = kutim_regions()
    desa = [r.code for r in regions if r.level in ("desa", "kelurahan")]
    rng = random.Random()
    batches = [[record("jumlah-penduduk", code, str(year), year, sex=sex)
                for code in rng.sample(desa, 20) for sex in ("L", "P")]
               for year in range(2015, 2023)]
    # records first: no region, no dataset known yet; then the regions without their aliases
    # (version 1) while more records arrive on other indexing loops, the dataset, and last the
    # regions' final data (version 2, aliases added: only tsv of a record changes)
    provisional = [r.model_copy(update={"aliases": [], "version": 1}) for r in regions]
    final = [r.model_copy(update={"version": 2}) for r in regions]
    await registry_bus.records(batches[0])
    await registry_bus.records(batches[1])
    await registry_bus.regions(provisional)
    for b in batches[2:5]:
        await registry_bus.records(b)
    await registry_bus.datasets(dataset("jumlah-penduduk", "Jumlah Penduduk"))
    await registry_bus.records(batches[5])
    await eventually(lambda: _settled(registry_bus), timeout=30)  # those documents exist
    await registry_bus.regions(final)
    for b in batches[6:]:
        await registry_bus.records(b)

    pool = search_app["pool"]
    total = sum(len(b) for b in batches)
    await eventually(lambda: _count_records(pool, total), timeout=30)
    await eventually(lambda: _settled(registry_bus), timeout=30)
    async with pool.acquire() as conn:
        live = (await store.documents_fingerprint(conn)
                + [{"count": c} for c in await facet_counts.kept(conn)])
    rebuilt = await _rebuilt(pool)
    assert len(live) == len(rebuilt)
    diff = [(a.get("doc_id"), k) for a, b in zip(live, rebuilt) for k in a if a[k] != b[k]]
    assert not diff, diff[:10]
    # and the aliases of the final data are searchable in the records' documents
    assert any(r.aliases for r in final)


async def _count_records(pool, expected: int) -> bool:
    return await pool.fetchval("SELECT count(*) FROM records") == expected
