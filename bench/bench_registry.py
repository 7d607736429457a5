"""Registry hot path: rows per second applied into a dataset that already holds N records.

    .venv/bin/python bench/bench_registry.py                 # 1,000,000 records
    .venv/bin/python bench/bench_registry.py --records 50000 # a quick run

Uses ``--database-url`` / ``DATABASE_URL`` (a fresh database is created on that server and
dropped afterwards) or, when neither is set, an embedded PostgreSQL in a temporary folder.
It migrates, seeds the reference data, bulk-loads N records of a SAMPLE (data contoh) dataset
with COPY (records and their first versions), then times ``publishing.apply.apply_rows`` on batches of
1,000 rows, half of them unchanged values and half changed, each batch in its own transaction,
next to the raw COPY limit: the same batches COPY'd into a plain table on the same server.
Prints one JSON object.

``--compare-checks`` also measures what the checks before publication cost, as a
paired A/B in the same database: rounds of one batch per arm, the arms' order rotating each
round, so the shared machine's noise falls on every arm alike. Arms: ``on`` (the default
policy: outlier checks on, no rules), ``outliers_off`` (policy ``outliers: false``), ``off``
(the screen skipped: the apply as before the checks existed, since the checks keep no index or table of
their own). The JSON gains ``checks``: each arm's rows/s and batch percentiles, and
``drop_pct``: the drop in rows/s of ``on`` and ``outliers_off`` against ``off`` in %, from the
totals, from the median batches and as the median of the per-round paired ratios, with the
load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from services.registry.access import store as access_store  # noqa: E402
from services.registry.datasets import service as datasets  # noqa: E402
from services.registry.datasets import store as datasets_store  # noqa: E402
from services.registry.publishing import apply  # noqa: E402
from services.registry.bootstrap.seed import seed  # noqa: E402
from services.registry.verification import store as verification_store  # noqa: E402
from services.registry.records.validation import dims_key  # noqa: E402
from bench.common import scratch  # noqa: E402
from shared.db import create_pool, run_migrations  # noqa: E402

SLUG = "contoh-benchmark"
PUBLISHER = "disdukcapil"
PERIODS = [str(y) for y in range(2015, 2025)]
DATASET = {
    "slug": SLUG, "title": "Data contoh untuk benchmark registry",
    "description": "DATA CONTOH (sample data) untuk mengukur kinerja; bukan data resmi.",
    "frequency": "annual", "topic": "contoh", "tags": ["contoh"],
    "metadata": {"sample_data": True, "produsen_data": "Data contoh",
                 "walidata": "Diskominfo Kutai Timur", "konsep": "Butir contoh",
                 "definisi": "Nilai acak untuk benchmark", "satuan": "unit"},
    "schema": {"dimensions": [{"name": "item", "label": "Butir", "values": {}}],
               "measures": [{"name": "nilai", "label": "Nilai", "type": "integer", "min": 0,
                             "additive": True}],
               "region_levels": ["desa", "kelurahan"]},
    "authoritative": [PUBLISHER],
}


class Keys:
    """Record i <-> (village, period, item), with a deterministic value."""

    def __init__(self, villages: list[str]):
        self.villages = villages

    def key(self, i: int) -> tuple[str, str, str]:
        rest = i // len(self.villages)
        return (self.villages[i % len(self.villages)], PERIODS[rest % len(PERIODS)],
                f"b{rest // len(PERIODS):05d}")

    @staticmethod
    def value(i: int) -> int:
        return (i * 7919) % 100_000


async def bulk_load(pool: asyncpg.Pool, dataset_id: int, keys: Keys, n: int) -> float:
    started = time.perf_counter()
    step = 100_000
    async with pool.acquire() as conn:
        for start in range(0, n, step):
            records = []
            for i in range(start, min(n, start + step)):
                village, period, item = keys.key(i)
                dims = {"item": item}
                records.append((dataset_id, village, period, dims_key(dims), dims,
                                {"nilai": keys.value(i)}, PUBLISHER))
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "records", schema_name="registry", records=records,
                    columns=["dataset_id", "region_code", "period", "dims_key", "dims", "vals",
                             "publisher_id"])
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO registry.record_versions (record_id, version, vals, status,
                       publisher_id, submission_id, recorded_at, seq)
                   SELECT id, version, vals, status, publisher_id, submission_id, updated_at, seq
                   FROM registry.records WHERE dataset_id = $1""", dataset_id)
        await conn.execute("VACUUM ANALYZE registry.records")
        await conn.execute("VACUUM ANALYZE registry.record_versions")
    return time.perf_counter() - started


def batch_rows(keys: Keys, indexes: list[int]) -> list[dict]:
    """Half the rows repeat the stored value (unchanged), half change it."""
    rows = []
    for n, i in enumerate(indexes):
        village, period, item = keys.key(i)
        value = keys.value(i) + (n % 2)
        rows.append({"region": village, "period": period, "item": item, "nilai": value})
    return rows


async def time_registry(pool: asyncpg.Pool, batches: list[list[dict]]) -> tuple[list[float], dict]:
    durations, totals = [], {"created": 0, "updated": 0, "unchanged": 0, "conflicts": 0,
                             "rejected": 0}
    for rows in batches:
        started = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            outcome = await apply.apply_rows(conn, dataset_slug=SLUG, publisher_id=PUBLISHER,
                                               rows=rows, submission_id=uuid.uuid4())
        durations.append(time.perf_counter() - started)
        for name in totals:
            totals[name] += getattr(outcome.counts, name)
    return durations, totals


async def time_copy(pool: asyncpg.Pool, batches: list[list[dict]]) -> list[float]:
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE IF EXISTS public.bench_copy")
        await conn.execute("CREATE TABLE public.bench_copy (region_code text, period text, "
                           "dims_key text, dims jsonb, vals jsonb)")
    durations = []
    for rows in batches:
        started = time.perf_counter()
        records = [(r["region"], r["period"], dims_key({"item": r["item"]}),
                    {"item": r["item"]}, {"nilai": r["nilai"]}) for r in rows]
        async with pool.acquire() as conn, conn.transaction():
            await conn.copy_records_to_table(
                "bench_copy", schema_name="public", records=records,
                columns=["region_code", "period", "dims_key", "dims", "vals"])
        durations.append(time.perf_counter() - started)
    async with pool.acquire() as conn:
        await conn.execute("DROP TABLE public.bench_copy")
    return durations


ARMS = ("on", "outliers_off", "off")


async def _passthrough(conn, *, to_apply, **_) -> list[int]:
    return to_apply


SCREEN = apply.screen


async def set_arm(pool: asyncpg.Pool, dataset_id: int, arm: str) -> None:
    """One arm's policy (and, for ``off``, the screen itself), outside the timed part."""
    policy = {**verification_store.DEFAULT_POLICY, "outliers": arm != "outliers_off"}
    async with pool.acquire() as conn, conn.transaction():
        await verification_store.put_policy(conn, dataset_id, policy, "bench")
    apply.screen = _passthrough if arm == "off" else SCREEN


def _drops(out: dict, durations: dict[str, list[float]]) -> dict:
    """Each arm's drop in rows/s against ``off``: from the totals, from the median batches, and
    the median of the per-round paired ratios (the figure the machine's load moves least)."""
    return {arm: {
        "rows_per_s": round(100 * (1 - out[arm]["rows_per_s"] / out["off"]["rows_per_s"]), 1),
        "batch_ms_p50": round(100 * (1 - out["off"]["batch_ms_p50"] / out[arm]["batch_ms_p50"]),
                              1),
        "paired_median": round(100 * (1 - statistics.median(
            off / mine for mine, off in zip(durations[arm], durations["off"]))), 1)}
        for arm in ("on", "outliers_off")}


async def compare_checks(pool: asyncpg.Pool, dataset_id: int, batches: list[list[dict]]
                         ) -> dict:
    """Rounds of one batch per arm, the order rotating each round; each arm's summary and its
    drop against ``off``."""
    durations: dict[str, list[float]] = {arm: [] for arm in ARMS}
    load_before = os.getloadavg()
    for n in range(len(batches) // len(ARMS)):
        order = ARMS[n % len(ARMS):] + ARMS[:n % len(ARMS)]
        for k, arm in enumerate(order):
            await set_arm(pool, dataset_id, arm)
            durations[arm] += (await time_registry(pool, [batches[n * len(ARMS) + k]]))[0]
    await set_arm(pool, dataset_id, "on")
    out = {arm: summary(d, len(batches[0])) for arm, d in durations.items()}
    out["drop_pct"] = _drops(out, durations)
    out["rounds"] = len(durations["off"])
    out["loadavg_before"] = [round(x, 2) for x in load_before]
    out["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def summary(durations: list[float], batch: int) -> dict:
    total = sum(durations)
    ms = sorted(d * 1000 for d in durations)
    return {"rows_per_s": round(batch * len(durations) / total),
            "batch_ms_p50": round(statistics.median(ms), 2),
            "batch_ms_p95": round(ms[min(len(ms) - 1, int(len(ms) * 0.95))], 2)}


async def run(url: str, args) -> dict:
    await asyncio.to_thread(run_migrations, ROOT / "services" / "registry", url)
    pool = await create_pool(url, "registry", max_size=4)
    try:
        await seed(pool, sample_values=False)
        async with pool.acquire() as conn, conn.transaction():
            if await datasets_store.get_dataset(conn, SLUG) is None:
                await datasets.create_dataset(conn, DATASET)
            publisher = await access_store.get_publisher(conn, PUBLISHER)
            await access_store.upsert_publisher(conn, id=PUBLISHER, name=publisher["name"],
                                         kind=publisher["kind"],
                                         region_scope=publisher["region_scope"],
                                         datasets=sorted({*publisher["datasets"], SLUG}))
            dataset = await datasets_store.get_dataset(conn, SLUG)
            villages = [r["code"] for r in await conn.fetch(
                "SELECT code FROM registry.regions WHERE level IN ('desa','kelurahan') "
                "ORDER BY code")]
        keys = Keys(villages)
        load_s = await bulk_load(pool, dataset["id"], keys, args.records)
        rng = random.Random(6408)
        arms = len(ARMS) if args.compare_checks else 0
        total = (args.batches * (1 + arms) + args.warmup) * args.batch
        picked = rng.sample(range(args.records), min(total, args.records))
        batches = [batch_rows(keys, picked[i:i + args.batch])
                   for i in range(0, len(picked), args.batch)]
        warm = batches[:args.warmup]
        timed = batches[args.warmup:args.warmup + args.batches]
        paired = batches[args.warmup + args.batches:]
        await time_registry(pool, warm)
        await time_copy(pool, warm)
        registry_d, counts = await time_registry(pool, timed)
        copy_d = await time_copy(pool, timed)
        checks = await compare_checks(pool, dataset["id"], paired) if arms else None
        stored = await pool.fetchval("SELECT count(*) FROM registry.records")
    finally:
        await pool.close()
    reg, raw = summary(registry_d, args.batch), summary(copy_d, args.batch)
    extra = {"checks": checks} if checks else {}
    return {"records_in_dataset": args.records, "records_total": stored,
            "bulk_load_s": round(load_s, 1), "batch_rows": args.batch,
            "batches_timed": len(timed), "counts": counts,
            "registry": reg, "raw_copy": raw,
            "ratio_registry_to_copy": round(reg["rows_per_s"] / raw["rows_per_s"], 3),
            **extra}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--compare-checks", action="store_true",
                        help="also --batches paired rounds of checks on / outliers off / off")
    args = parser.parse_args()
    with scratch("satudata-bench-") as folder:
        embedded = None
        if args.database_url:
            server = args.database_url
            name = f"bench_registry_{uuid.uuid4().hex[:8]}"
            base = server.rpartition("/")[0]
            admin = await asyncpg.connect(f"{base}/postgres")
            await admin.execute(f'CREATE DATABASE "{name}"')
            await admin.close()
            url = f"{base}/{name}"
        else:
            from shared.infra import EmbeddedPostgres

            embedded = EmbeddedPostgres(folder / "pg")
            url = embedded.start().url
        try:
            result = await run(url, args)
            result["server"] = "embedded" if embedded else "DATABASE_URL"
            print(json.dumps(result, indent=2))
        finally:
            if embedded:
                embedded.stop()
            elif not args.keep:
                admin = await asyncpg.connect(f"{base}/postgres")
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
