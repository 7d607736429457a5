"""Ageing: does a chunk cost more as the database grows and held values pile up?

    .venv/bin/python bench/bench_ageing.py                     # 1,000,000 records, 10,000 held
    .venv/bin/python bench/bench_ageing.py --records 100000 --held 2000 --chunks 20  # quick

Four arms, each in a database of its own on one PostgreSQL server (``--database-url`` /
``DATABASE_URL``, else an embedded one): 0 or ``--records`` records bulk-loaded into one SAMPLE
(data contoh) dataset, times no held values or ``--held`` held values added during the run.
Right after the bulk load, with no ANALYZE and autovacuum off on the registry's tables (the
statistics stay those of an empty database: the worst case for plans), each arm applies
``--chunks`` chunks of 500 new rows (a new period) through ``records.apply.apply_rows`` on one
connection, as the registry's consumer does; the held arms apply between them chunks that a
validation rule holds, until ``--held`` values wait for the walidata. The arms take turns chunk
by chunk, so the machine's load falls on all alike.

Measured per new row, in CPU time (which the machine's load moves little): the PostgreSQL
backend's (``/proc``) and the registry's (this process, which runs the registry's code). The
figures the issue asks for: ``ratio_records`` (1M records against 0, both without held values;
goal <= 1.3) and ``ratio_held`` (with held values against none, at 1M records; goal <= 1.1).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_registry import DATASET, PERIODS, PUBLISHER, SLUG, Keys  # noqa: E402
from bench.common import scratch  # noqa: E402
from bench.proc_cpu import tree_cpu_seconds  # noqa: E402
from services.registry.access import store as access_store  # noqa: E402
from services.registry.datasets import service as datasets  # noqa: E402
from services.registry.datasets import store as datasets_store  # noqa: E402
from services.registry.publishing import apply  # noqa: E402
from services.registry.bootstrap.seed import seed  # noqa: E402
from services.registry.records.validation import dims_key  # noqa: E402
from services.registry.verification import store as verification_store  # noqa: E402
from shared.db import create_pool, run_migrations  # noqa: E402

CHUNK = 500
NEW_PERIOD, HELD_PERIOD = "2025", "2026"  # the measured rows, the rows a rule holds
RULE = {"expression": "nilai < 1000000", "importance": "tinggi",
        "message": "Nilai contoh di atas satu juta ditahan (benchmark)."}
CHURNING = ("records", "record_versions", "held_values", "verification_events", "outbox",
            "applied_chunks", "conflicts")


async def bulk_load(conn: asyncpg.Connection, dataset_id: int, keys: Keys, n: int) -> None:
    """COPY ``n`` records and their first versions; no ANALYZE afterwards."""
    step = 100_000
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
    await conn.execute(
        """INSERT INTO registry.record_versions (record_id, version, vals, status, publisher_id,
               submission_id, recorded_at, seq, hash)
           SELECT id, version, vals, status, publisher_id, submission_id, updated_at, seq, hash
           FROM registry.records WHERE dataset_id = $1""", dataset_id)


class Arm:
    """One database: its pool, one connection (the consumer's), its backend's pid."""

    def __init__(self, name: str, records: int, held: int):
        self.name, self.records, self.held = name, records, held
        self.pg_cpu = self.py_cpu = 0.0
        self.rows = self.held_now = 0
        self.chunk_ms: list[float] = []

    async def open(self, url: str, villages_keys: Keys) -> None:
        await asyncio.to_thread(run_migrations, ROOT / "services" / "registry", url)
        self.pool = await create_pool(url, "registry", min_size=1, max_size=2)
        await seed(self.pool, sample_values=False)
        self.conn = await self.pool.acquire()
        async with self.conn.transaction():
            await datasets.create_dataset(self.conn, DATASET)
            dataset = await datasets_store.get_dataset(self.conn, SLUG)
            publisher = await access_store.get_publisher(self.conn, PUBLISHER)
            await access_store.update_publisher(self.conn, PUBLISHER, {
                "datasets": sorted({*publisher["datasets"], SLUG})})
            await verification_store.insert_rule(self.conn, dataset["id"], RULE, "bench")
        for table in CHURNING:
            await self.conn.execute(f"ALTER TABLE registry.{table} "
                                    "SET (autovacuum_enabled = false)")
        await bulk_load(self.conn, dataset["id"], villages_keys, self.records)
        self.backend = await self.conn.fetchval("SELECT pg_backend_pid()")

    async def apply(self, rows: list[dict], measured: bool) -> None:
        pg0 = tree_cpu_seconds({"pg": self.backend})["pg"]
        py0, t0 = time.process_time(), time.perf_counter()
        async with self.conn.transaction():
            outcome = await apply.apply_rows(self.conn, dataset_slug=SLUG,
                                             publisher_id=PUBLISHER, rows=rows,
                                             submission_id=uuid.uuid4())
        py1, t1 = time.process_time(), time.perf_counter()
        if measured:
            self.py_cpu += py1 - py0
            self.pg_cpu += tree_cpu_seconds({"pg": self.backend})["pg"] - pg0
            self.rows += len(rows)
            self.chunk_ms.append((t1 - t0) * 1000)
            assert outcome.counts.held == 0 and outcome.counts.rejected == 0, outcome.counts
        else:
            self.held_now += outcome.counts.held

    def result(self) -> dict:
        per_row = lambda s: round(s / self.rows * 1e6, 1)  # noqa: E731 - CPU us per row
        return {"records": self.records, "held_values": self.held_now, "rows": self.rows,
                "pg_us_per_row": per_row(self.pg_cpu), "registry_us_per_row": per_row(self.py_cpu),
                "total_us_per_row": per_row(self.pg_cpu + self.py_cpu),
                "chunk_ms_p50": round(statistics.median(self.chunk_ms), 1)}

    async def close(self) -> None:
        await self.pool.release(self.conn)
        await self.pool.close()


def chunk_rows(keys: Keys, start: int, period: str, value: int | None) -> list[dict]:
    """500 rows of a period no record has, for (village, item) keys of the bulk load: each
    with its key's 2024 value (the history's own scale: no outlier), or ``value``."""
    rows, villages = [], len(keys.villages)
    for n in range(start, start + CHUNK):
        village, item_no = n % villages, n // villages
        last = villages * (item_no * len(PERIODS) + len(PERIODS) - 1) + village  # its 2024
        rows.append({"region": keys.villages[village], "period": period,
                     "item": f"b{item_no:05d}",
                     "nilai": keys.value(last) if value is None else value})
    return rows


async def run(server: str, args) -> dict:
    base = server.rpartition("/")[0]
    admin = await asyncpg.connect(f"{base}/postgres")
    arms = [Arm("0_records", 0, 0), Arm("0_records_held", 0, args.held),
            Arm("records", args.records, 0), Arm("records_held", args.records, args.held)]
    names = {arm.name: f"bench_ageing_{uuid.uuid4().hex[:8]}" for arm in arms}
    try:
        for name in names.values():
            await admin.execute(f'CREATE DATABASE "{name}"')
        villages = None
        for arm in arms:
            url = f"{base}/{names[arm.name]}"
            if villages is None:
                pool = await create_pool(url, "registry")
                await asyncio.to_thread(run_migrations, ROOT / "services" / "registry", url)
                await seed(pool, sample_values=False)
                villages = [r["code"] for r in await pool.fetch(
                    "SELECT code FROM regions WHERE level IN ('desa','kelurahan') ORDER BY code")]
                await pool.close()
            await arm.open(url, Keys(villages))
        keys = Keys(villages)
        hold_every = max(1, args.chunks * CHUNK // max(args.held, 1)) if args.held else 0
        held_chunks = args.held // CHUNK
        for k in range(args.chunks):  # arms take turns chunk by chunk
            for arm in arms:
                await arm.apply(chunk_rows(keys, k * CHUNK, NEW_PERIOD, None), measured=True)
                if arm.held and k < held_chunks * hold_every and k % hold_every == 0:
                    await arm.apply(chunk_rows(keys, (k // hold_every) * CHUNK, HELD_PERIOD,
                                               2_000_000), measured=False)
        out = {arm.name: arm.result() for arm in arms}
    finally:
        for arm in arms:
            if hasattr(arm, "pool"):
                await arm.close()
        for name in names.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    ratio = lambda a, b, k="total_us_per_row": round(out[a][k] / out[b][k], 3)  # noqa: E731
    return {"chunk_rows": CHUNK, "chunks_per_arm": args.chunks, "arms": out,
            "ratio_records": ratio("records", "0_records"),
            "ratio_records_pg": ratio("records", "0_records", "pg_us_per_row"),
            "ratio_held": ratio("records_held", "records"),
            "ratio_held_pg": ratio("records_held", "records", "pg_us_per_row"),
            "ratio_held_at_0": ratio("0_records_held", "0_records"),
            "goals": {"ratio_records": 1.3, "ratio_held": 1.1},
            "loadavg": [round(x, 2) for x in os.getloadavg()]}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--held", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    with scratch("satudata-bench-") as folder:
        embedded = None
        if args.database_url:
            server = args.database_url
        else:
            from shared.infra import EmbeddedPostgres

            embedded = EmbeddedPostgres(folder / "pg")
            server = embedded.start().url
        try:
            result = await run(server, args)
            result["server"] = "embedded" if embedded else "DATABASE_URL"
            print(json.dumps(result, indent=2))
        finally:
            if embedded:
                embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
