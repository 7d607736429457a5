"""A dataset already holding records before bench_e2e submits to it: the pipeline's CPU per row
is measured where a regency's data ends up, in a database that has aged.

The records are the ageing bench's (``bench_registry.Keys``: every village x the years
2015-2024 x items b00000, b00001, ..., in the SAMPLE (data contoh) dataset ``contoh-benchmark``),
with steady values (``common.steady_value``: the next years' values are no outliers). The
dataset is created through the gateway as the walidata (who lets the publisher write it), so
search learns it by its event; the
records are loaded set-based: ``COPY`` into the registry's records and their first versions,
and search's own indexing (``indexing.apply_records``) in batches for its documents and kept
counts. No ANALYZE afterwards, as in the ageing bench; autovacuum runs as it would.

The run then writes the next year of the first items for every village: each new row has ten
earlier periods, and the master it is classified against holds ``n`` records.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timezone

import httpx

from bench.bench_registry import DATASET, PERIODS, PUBLISHER, SLUG, Keys
from bench.common import Workload, steady_value
from services.registry.records.validation import dims_key
from services.search import indexing
from shared.db import create_pool

STEP = 10_000  # records per COPY and per indexing batch


def workload(n: int, places: int, rows: int) -> Workload:
    """The run's rows over a pre-load of ``n`` records: the first items, enough for ``rows``
    rows a year over ``places`` villages (so every village gets rows each year)."""
    items = n // (places * len(PERIODS))
    if items < 1:
        raise SystemExit(f"--preload {n} holds no whole item: at least "
                         f"{places * len(PERIODS):,} records")
    wanted = -(-rows // places)
    return Workload(dataset=SLUG, dimension="item", measure="nilai", closed=False,
                    codes=tuple(f"b{i:05d}" for i in range(min(items, wanted))))


async def preload(gateway: str, walidata_key: str, database_url: str, villages: list[str],
                  n: int) -> dict:
    """Create the dataset and load ``n`` records into the registry and search."""
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as client:
        walidata = {"Authorization": f"Bearer {walidata_key}"}
        r = await client.post("/v1/datasets", json=DATASET, headers=walidata)
        if r.status_code != 201:
            raise SystemExit(f"creating {SLUG}: {r.status_code} {r.text[:300]}")
        # the walidata lets the publisher write the dataset, as for any dataset of its own
        r = await client.get("/v1/publishers", headers=walidata)
        r.raise_for_status()
        [mine] = [p for p in r.json()["items"] if p["id"] == PUBLISHER]
        r = await client.patch(f"/v1/publishers/{PUBLISHER}", headers=walidata,
                               json={"datasets": sorted({*mine["datasets"], SLUG})})
        if r.status_code != 200:
            raise SystemExit(f"granting {SLUG} to {PUBLISHER}: {r.status_code} {r.text[:300]}")
    registry = await create_pool(database_url, "registry", max_size=1)
    search = await create_pool(database_url, "search", max_size=1)
    try:
        async with registry.acquire() as conn, search.acquire() as indexer:
            for _ in range(600):  # search learns the dataset from the registry's event
                if await conn.fetchval("SELECT 1 FROM search.datasets WHERE slug = $1", SLUG):
                    break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit(f"search never learnt {SLUG}")
            dataset_id = await conn.fetchval(
                "SELECT id FROM registry.datasets WHERE slug = $1", SLUG)
            keys, now = Keys(villages), datetime.now(timezone.utc)
            for start in range(0, n, STEP):
                batch = []
                for i in range(start, min(n, start + STEP)):
                    village, period, item = keys.key(i)
                    batch.append((uuid.uuid4(), village, period, {"item": item},
                                  {"nilai": steady_value(village, item, int(period))}))
                async with conn.transaction():
                    await conn.copy_records_to_table(
                        "records", schema_name="registry",
                        columns=["id", "dataset_id", "region_code", "period", "dims_key", "dims",
                                 "vals", "publisher_id"],
                        records=[(i, dataset_id, v, p, dims_key(d), d, x, PUBLISHER)
                                 for i, v, p, d, x in batch])
                async with indexer.transaction():
                    await indexing.apply_records(indexer, [
                        (i, SLUG, v, p, d, x, 1, "current", PUBLISHER, now, "terverifikasi", now)
                        for i, v, p, d, x in batch])
            await conn.execute(
                """INSERT INTO registry.record_versions (record_id, version, vals, status,
                       publisher_id, submission_id, recorded_at, seq, hash)
                   SELECT id, version, vals, status, publisher_id, submission_id, updated_at,
                          seq, hash
                   FROM registry.records WHERE dataset_id = $1""", dataset_id)
    finally:
        await registry.close()
        await search.close()
    return {"records": n, "dataset": SLUG, "seconds": round(time.perf_counter() - started, 1)}

