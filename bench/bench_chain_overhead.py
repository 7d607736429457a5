"""What the hash chain costs the registry's apply: an A/B in one database.

    .venv/bin/python bench/bench_chain_overhead.py --records 200000 --batches 80

Sets up exactly as bench_registry.py (embedded PostgreSQL unless --database-url), then applies
1,000-row batches (half changed, half unchanged) alternating, A B B A, between the apply SQL
as it was before the chain (kept below) and the current one, so a shared machine's noise falls
on both alike. Prints each one's median and mean batch time and the difference. SAMPLE (data
contoh) values only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time

import bench_registry as b
from common import scratch
from services.registry.access import store as access_store
from services.registry.datasets import service as datasets
from services.registry.datasets import store as datasets_store
from services.registry.records import service as records
from shared.db import create_pool, run_migrations

BEFORE_CHAIN = """WITH up AS (
     INSERT INTO records AS r (dataset_id, region_code, period, dims_key, dims, vals,
                               publisher_id, submission_id)
     SELECT $1, region_code, period, dims_key, dims, vals, $3, $4
     FROM incoming WHERE idx = ANY($2::int[])
     ON CONFLICT (dataset_id, region_code, period, dims_key) DO UPDATE
       SET vals = excluded.vals, version = r.version + 1, status = 'current',
           publisher_id = excluded.publisher_id, submission_id = excluded.submission_id,
           updated_at = now(), seq = nextval('record_seq')
       WHERE r.vals IS DISTINCT FROM excluded.vals OR r.status <> 'current'
     RETURNING r.id, r.region_code, r.period, r.dims, r.vals, r.version, r.status,
               r.publisher_id, r.submission_id, r.updated_at, r.seq),
   hist AS (
     INSERT INTO record_versions (record_id, version, vals, status, publisher_id,
                                  submission_id, recorded_at, seq)
     SELECT id, version, vals, status, publisher_id, submission_id, updated_at, seq FROM up)
   SELECT * FROM up"""

CHAINED = records.apply_staged  # (the name the apply path calls: patched below)
SQL_MS: dict[str, list[float]] = {"before": [], "chained": []}


async def before_chain(conn, dataset_id, idxs, publisher_id, submission_id):
    if not idxs:
        return []
    rows = await conn.fetch(BEFORE_CHAIN, dataset_id, idxs, publisher_id, submission_id)
    return [dict(r) for r in rows]


def timed(name, apply):
    """The upsert statement alone, where the two variants differ."""
    async def wrapper(*args):
        started = time.perf_counter()
        try:
            return await apply(*args)
        finally:
            SQL_MS[name].append((time.perf_counter() - started) * 1000)
    return wrapper


async def run(url: str, args) -> dict:
    await asyncio.to_thread(run_migrations, b.ROOT / "services" / "registry", url)
    pool = await create_pool(url, "registry", max_size=4)
    try:
        await b.seed(pool, sample_values=False)
        async with pool.acquire() as conn, conn.transaction():
            await datasets.create_dataset(conn, b.DATASET)
            p = await access_store.get_publisher(conn, b.PUBLISHER)
            await access_store.upsert_publisher(conn, id=b.PUBLISHER, name=p["name"],
                                                kind=p["kind"], region_scope=p["region_scope"],
                                                datasets=sorted({*p["datasets"], b.SLUG}))
            dataset = await datasets_store.get_dataset(conn, b.SLUG)
            villages = [r["code"] for r in await conn.fetch(
                "SELECT code FROM registry.regions WHERE level IN ('desa','kelurahan') "
                "ORDER BY code")]
        keys = b.Keys(villages)
        await b.bulk_load(pool, dataset["id"], keys, args.records)
        picked = random.Random(6408).sample(range(args.records), (args.batches + 4) * 1000)
        batches = [b.batch_rows(keys, picked[i:i + 1000]) for i in range(0, len(picked), 1000)]
        times: dict[str, list[float]] = {"before": [], "chained": []}
        for i, rows in enumerate(batches):
            name = ("before", "chained", "chained", "before")[i % 4]
            records.apply_staged = timed(name, before_chain if name == "before" else CHAINED)
            took, _ = await b.time_registry(pool, [rows])
            if i >= 4:  # warm-up
                times[name].append(took[0] * 1000)
    finally:
        records.apply_staged = CHAINED
        await pool.close()
    out = {k: {"median_ms": round(statistics.median(v), 1),
               "mean_ms": round(statistics.mean(v), 1), "batches": len(v),
               "upsert_median_ms": round(statistics.median(SQL_MS[k][2:]), 1)}
           for k, v in times.items()}
    for stat in ("median_ms", "mean_ms"):
        out[f"chained_vs_before_{stat[:-3]}"] = round(
            out["chained"][stat] / out["before"][stat] - 1, 3)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=80)
    args = parser.parse_args()
    from shared.infra import EmbeddedPostgres

    with scratch("satudata-bench-") as folder:
        embedded = EmbeddedPostgres(folder / "pg")
        try:
            print(json.dumps(await run(embedded.start().url, args), indent=2))
        finally:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
