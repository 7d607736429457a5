"""Shared benchmark helpers: the machine's own limits, measured in the same run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import asyncpg
import httpx

from shared.signing import ServiceAuth

RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A folder for a bench's own servers and logs, removed when the bench ends (with a
    million records its database is 1-3 GB, and it holds the run's dev keys); kept, and named
    on stderr, when the bench fails. Stop what runs in it before leaving the block."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    except BaseException:
        print(f"bench: {path} kept (the run failed)", file=sys.stderr, flush=True)
        raise
    shutil.rmtree(path, ignore_errors=True)


async def raw_copy_rows_per_second(database_url: str, rows: list[tuple], batch: int = 1000
                                   ) -> float:
    """COPY the same rows into a plain table on the same server: the machine's write limit."""
    conn = await asyncpg.connect(database_url)
    table = f"bench_copy_{uuid.uuid4().hex[:8]}"
    try:
        await conn.execute(f"CREATE TABLE {table} (region_code text, period text, dims_key text,"
                           " vals text)")
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            async with conn.transaction():
                await conn.copy_records_to_table(table, records=rows[i:i + batch])
        elapsed = time.perf_counter() - started
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.close()
    return len(rows) / elapsed


def service_auth(caller: str = "gateway") -> httpx.Auth:
    """Services refuse unsigned calls (shared.signing): a benchmark that calls one directly signs
    as the gateway would (its calls alone may carry a user's principal), with keys made for this
    run if none are set and passed on to every process it starts through the environment."""
    from satudata.platform import signing_env
    from shared.signing import SigningKey

    if not os.environ.get("GATEWAY_SIGNING_KEY"):
        os.environ.update(signing_env())
    return ServiceAuth(SigningKey.load("gateway", os.environ["GATEWAY_SIGNING_KEY"]))


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
    return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2)}


def save(name: str, result: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({name: result}, indent=2))


@dataclass(frozen=True)
class Workload:
    """What a pipeline bench submits: a dataset, the codes of its one dimension, its measure."""
    dataset: str = "jumlah-penduduk"
    dimension: str = "jenis_kelamin"
    codes: tuple[str, ...] = ("L", "P")
    measure: str = "jumlah"
    closed: bool = True  # the dataset lists its codes (False: any code is taken)


POPULATION = Workload()  # the demo dataset: 141 villages x two sexes x the real years


def steady_value(place: str, code: str, year: int) -> int:
    """A place's SAMPLE (contoh) value for one code: steady within 0.5 %, the same in every run
    (crc32, not the salted hash()): random values, or a steady trend whose chunks arrive out of
    order, are held as outliers by verification and never become public, and a bench would
    wait for them forever."""
    base = zlib.crc32(f"{place}|{code}".encode()) % 2000 + 1000
    step = zlib.crc32(f"{place}|{code}|{year}".encode()) % 3 - 1  # -0.5/0/+0.5 %
    return base + step * base // 200


def sample_rows(n: int, villages: list[str], start_year: int = 1900,
                workload: Workload = POPULATION) -> list[dict]:
    """SAMPLE (contoh) rows of ``workload``: distinct (village, year, code) keys, year by year
    from ``start_year``, each value steady (``steady_value``)."""
    rows, year = [], start_year
    while len(rows) < n:
        for place in villages:
            for code in workload.codes:
                rows.append({"region": place, "period": str(year), workload.dimension: code,
                             workload.measure: steady_value(place, code, year)})
        year += 1
    return rows[:n]


def run(coro):
    return asyncio.run(coro)
