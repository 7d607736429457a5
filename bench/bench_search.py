"""Search benchmark: query latency over N indexed records, and event-to-searchable freshness.

Self-contained (default): a fresh database on $DATABASE_URL, the search service as its own
uvicorn process on a free port, the real Kutai Timur regions, and N generated sample records
(data contoh, NOT official statistics) bulk-loaded through the indexer's set-based functions.
Against a running platform: ``--url http://127.0.0.1:8003`` (queries only; add ``--nats-url``
and ``--namespace`` to also publish contoh record events and read freshness from /metrics).

    .venv/bin/python bench/bench_search.py --records 1000000
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.search import indexing  # noqa: E402
from shared import bus  # noqa: E402
from shared.contracts import (DatasetV1, Envelope, RecordsChangedV1, RecordV1,  # noqa: E402
                              RegionV1)
from shared.db import create_pool, run_migrations  # noqa: E402
from shared.infra import free_port  # noqa: E402
from bench.common import service_auth  # noqa: E402
from bench.search_limits import beside, floors  # noqa: E402

CONTOH = "Data contoh (sample data) dibuat oleh bench, bukan statistik resmi."
AGE = {f"{a:02d}": f"{a}-{a + 4} tahun" for a in range(0, 80, 5)}
DATASETS = [  # slug, title, topic, publisher, dimensions
    ("jumlah-penduduk", "Jumlah Penduduk", "kependudukan", "disdukcapil",
     {"jenis_kelamin": {"L": "Laki-laki", "P": "Perempuan"}, "kelompok_umur": AGE}),
    ("jumlah-sekolah", "Jumlah Sekolah", "pendidikan", "disdik",
     {"jenjang": {"SD": "Sekolah Dasar", "SMP": "Sekolah Menengah Pertama",
                  "SMA": "Sekolah Menengah Atas"}}),
    ("fasilitas-kesehatan", "Fasilitas Kesehatan", "kesehatan", "dinkes",
     {"jenis": {"PKM": "Puskesmas", "PST": "Pustu", "PSD": "Posyandu"}}),
    ("produksi-padi", "Produksi Padi", "pertanian", "distan",
     {"jenis": {"SW": "Padi sawah", "LD": "Padi ladang"}}),
    ("proyek-pembangunan", "Proyek Pembangunan Desa", "pembangunan", "bappeda",
     {"bidang": {"JLN": "Jalan", "JMB": "Jembatan", "AIR": "Air bersih"}}),
    ("angkatan-kerja", "Angkatan Kerja", "ketenagakerjaan", "disnaker",
     {"jenis_kelamin": {"L": "Laki-laki", "P": "Perempuan"}}),
]
# (label, params): the search mix the benchmarks keep. "penduduk" matches 32 of every 45 generated
# records (more than half the documents); the rest: a place, a typo, two words, a filter, a
# period and a prefix, plus a citizen's question.
QUERIES = [
    ("common_word", {"q": "penduduk"}), ("common_word", {"q": "sekolah"}),
    ("place", {"q": "kombeng"}), ("place", {"q": "sangatta"}),
    ("two_words", {"q": "padi sawah"}), ("two_words", {"q": "penduduk sangatta utara 2024"}),
    ("two_words", {"q": "jembatan desa bengalon 2023"}),
    ("question", {"q": "berapa penduduk laki-laki di kaubun tahun 2024"}),
    ("typo", {"q": "sangata utara"}), ("typo", {"q": "muara ancalog"}),
    ("typo", {"q": "kongbeng sekolah"}),
    ("filter", {"q": "sekolah", "kind": "record", "region": "64.08.02.2003"}),
    ("filter", {"q": "", "dataset": "produksi-padi", "region": "64.08.15"}),
    ("period", {"q": "penduduk", "region": "64.08.04", "period_from": "2024",
                "period_to": "2024"}),
    ("period", {"q": "", "dataset": "produksi-padi", "period_from": "2023-01",
                "period_to": "2023-03"}),
    ("prefix", {"q": "muara wah"}), ("prefix", {"q": "puskes"}),
]
def regions() -> list[RegionV1]:
    rows = list(csv.DictReader(open(ROOT / "data" / "wilayah_6408_kutai_timur.csv")))
    aliases: dict[str, list[str]] = {}
    for b in csv.DictReader(open(ROOT / "data" / "bps_6404_crosswalk.csv")):
        aliases.setdefault(b["kemendagri_code"], [b["bps_code"]]).append(b["bps_name"])
    by = {r["code"]: r for r in rows}
    out = []
    for r in rows:
        path, node = [], r
        while node:
            path.insert(0, node)
            node = by.get(node["parent_code"])
        out.append(RegionV1(code=r["code"], name=r["name"], level=r["level"],
                            parent_code=r["parent_code"] or None,
                            path_codes=[p["code"] for p in path],
                            path_names=[p["name"] for p in path],
                            aliases=aliases.get(r["code"], [])))
    return out


def datasets() -> list[DatasetV1]:
    now = datetime.now(timezone.utc)
    return [DatasetV1(slug=s, title=t, description=f"{t} per desa. {CONTOH}", topic=topic,
                      tags=[topic, "contoh"], publisher=pub, frequency="monthly",
                      dimensions=list(dims), measures=["nilai"], dimension_values=dims,
                      measure_info={"nilai": {"label": "Nilai", "unit": None, "type": "integer"}},
                      metadata={"catatan": CONTOH}, version=1, updated_at=now)
            for s, t, topic, pub, dims in DATASETS]


def generate(n: int, desa: list[str], seed: int = 7):
    """n contoh records: every dataset x desa x month x dimension combination, until n."""
    rnd = random.Random(seed)
    now = datetime.now(timezone.utc)
    combos = []
    for slug, _t, _topic, pub, dims in DATASETS:
        keys = [{}]
        for name, values in dims.items():
            keys = [{**k, name: code} for k in keys for code in values]
        combos.append((slug, pub, keys))
    periods = [f"{y}-{m:02d}" for y in range(2025, 1990, -1) for m in range(1, 13)]
    made = 0
    for period in periods:
        for slug, pub, keys in combos:
            for code in desa:
                for dims in keys:
                    yield (uuid.UUID(int=rnd.getrandbits(128)), slug, code, period, dims,
                           {"nilai": rnd.randint(0, 5000)}, 1, "current", pub, now,
                           "terverifikasi", now)
                    made += 1
                    if made >= n:
                        return


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def bulk_load(database_url: str, n: int, chunk: int) -> dict:
    pool = await create_pool(database_url, "search", max_size=2)
    regs = regions()
    desa = [r.code for r in regs if r.level in ("desa", "kelurahan")]
    t0 = time.perf_counter()
    async with pool.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, regs)
            await indexing.apply_datasets(conn, datasets())
        batch: list[tuple] = []
        for row in generate(n, desa):
            batch.append(row)
            if len(batch) == chunk:
                async with conn.transaction():
                    await indexing.apply_records(conn, batch)
                batch = []
        if batch:
            async with conn.transaction():
                await indexing.apply_records(conn, batch)
        await conn.execute("VACUUM ANALYZE documents")
        await conn.execute("VACUUM ANALYZE records")
    await pool.close()
    return {"records": n, "seconds": round(time.perf_counter() - t0, 1)}


async def query_load(url: str, clients: int, seconds: float) -> dict:
    latencies: dict[str, list[float]] = {}
    errors = 0
    deadline = 0.0  # set once the warm-up is done (it used to eat the whole phase)

    async def worker(i: int):
        nonlocal errors
        rnd = random.Random(i)
        async with httpx.AsyncClient(base_url=url, timeout=30, auth=service_auth()) as client:
            while time.perf_counter() < deadline:
                label, params = rnd.choice(QUERIES)
                t = time.perf_counter()
                resp = await client.get("/v1/search", params=params)
                dt = (time.perf_counter() - t) * 1000
                if resp.status_code != 200:
                    errors += 1
                latencies.setdefault(label, []).append(dt)

    async with httpx.AsyncClient(base_url=url, timeout=60, auth=service_auth()) as warm:  # caches, plans
        for _label, params in QUERIES:
            await warm.get("/v1/search", params=params)
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.perf_counter() - start
    every = [x for v in latencies.values() for x in v]
    out = {"clients": clients, "queries": len(every), "errors": errors,
           "qps": round(len(every) / elapsed, 1),
           "p50_ms": round(pct(every, 50), 1), "p95_ms": round(pct(every, 95), 1),
           "p99_ms": round(pct(every, 99), 1),
           "by_kind_p95_ms": {k: round(pct(v, 95), 1) for k, v in sorted(latencies.items())}}
    return out


def _histogram(text: str) -> dict[float, float]:
    buckets: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith('search_freshness_seconds_bucket{kind="records"'):
            le = line.split('le="')[1].split('"')[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(line.split()[-1])
    return buckets


def _quantile(before: dict, after: dict, q: float) -> float | None:
    edges = sorted(after)
    counts = [after[e] - before.get(e, 0.0) for e in edges]
    total = counts[-1] if counts else 0
    if not total:
        return None
    target, prev_edge, prev_count = q * total, 0.0, 0.0
    for edge, count in zip(edges, counts):
        if count >= target:
            if edge == float("inf"):
                return prev_edge
            return prev_edge + (edge - prev_edge) * (target - prev_count) / max(
                count - prev_count, 1e-9)
        prev_edge, prev_count = edge, count
    return None


async def freshness(url: str, nats_url: str, namespace: str, rate: int, seconds: float,
                    per_event: int, database_url: str | None) -> dict:
    nc = await bus.connect(nats_url, "bench-search")
    js = nc.jetstream()
    ns = bus.Namespace(namespace)
    await bus.ensure_streams(js, ns)
    desa = [r.code for r in regions() if r.level in ("desa", "kelurahan")]
    async with httpx.AsyncClient(base_url=url, timeout=30, auth=service_auth()) as client:
        before = _histogram((await client.get("/metrics")).text)
        sent_ids: list[uuid.UUID] = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            now = datetime.now(timezone.utc)
            records = [RecordV1(record_id=uuid.uuid4(), dataset="jumlah-penduduk",
                                region_code=desa[(i + k) % len(desa)], period="2030-01",
                                dimensions={"jenis_kelamin": "L", "kelompok_umur": "20"},
                                values={"nilai": k}, version=1, publisher_id="contoh",
                                changed_at=now) for k in range(per_event)]
            sent_ids += [r.record_id for r in records]
            await bus.publish(js, ns, Envelope.wrap(RecordsChangedV1(records=records)))
        # wait until every event is indexed
        for _ in range(600):
            after = _histogram((await client.get("/metrics")).text)
            if after and after[float("inf")] - before.get(float("inf"), 0) >= int(rate * seconds):
                break
            await asyncio.sleep(0.1)
    await nc.close()
    out = {"events_per_s": rate, "records_per_event": per_event,
           "events": int(rate * seconds),
           "histogram_p50_s": _round(_quantile(before, after, 0.5)),
           "histogram_p99_s": _round(_quantile(before, after, 0.99))}
    if database_url:  # exact, per record: changed_at (event made) -> document written
        conn = await asyncpg.connect(database_url)
        lags = [r["lag"] for r in await conn.fetch("""
            SELECT extract(epoch FROM d.indexed_at - r.changed_at)::float8 AS lag
            FROM search.records r JOIN search.documents d ON d.doc_id = 'record:' || r.record_id
            WHERE r.record_id = ANY($1::uuid[])""", sent_ids)]
        await conn.close()
        out.update({"indexed": len(lags), "p50_s": _round(pct(lags, 50)),
                    "p99_s": _round(pct(lags, 99)), "max_s": _round(max(lags, default=None))})
    return out


def _round(x):
    return None if x is None else round(x, 4)


async def _service(database_url: str, nats_url: str, namespace: str, cache_size: int):
    port = free_port("127.0.0.1")
    service_auth()  # makes the run's signing secret, which the service inherits below
    env = {**os.environ, "SEARCH_DATABASE_URL": database_url, "SEARCH_NATS_URL": nats_url,
           "SEARCH_NATS_NAMESPACE": namespace, "SEARCH_DB_POOL_MAX": "16",
           "SEARCH_LOG_LEVEL": "WARNING", "SEARCH_ANSWER_CACHE_SIZE": str(cache_size)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "services.search.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as c:
        for _ in range(200):
            try:
                if (await c.get(f"{url}/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    return proc, url


async def self_contained(args) -> dict:
    server_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    name = f"bench_search_{uuid.uuid4().hex[:8]}"
    base = server_url.rpartition("/")[0]
    database_url = args.database or f"{base}/{name}"
    admin = await asyncpg.connect(f"{base}/postgres")
    namespace = f"bench{uuid.uuid4().hex[:6]}"
    proc = None
    try:
        if args.database:  # already loaded (--keep of an earlier run): repeatable, no reload
            await asyncio.to_thread(run_migrations, ROOT / "services" / "search", database_url)
            load = {"reused": args.database}
        else:
            await admin.execute(f'CREATE DATABASE "{name}"')
            await asyncio.to_thread(run_migrations, ROOT / "services" / "search", database_url)
            load = await bulk_load(database_url, args.records, args.chunk)
        print(json.dumps({"loaded": load}), file=sys.stderr)
        proc, url = await _service(database_url, nats_url, namespace, args.cache_size)
        result = {"records": args.records, "load": load, "cache_size": args.cache_size,
                  "search_by_clients": {}}
        for clients in args.clients:
            result["search_by_clients"][clients] = await query_load(url, clients, args.seconds)
        result["search"] = result["search_by_clients"][args.clients[-1]]
        result["floors"] = await floors(url, database_url)
        result["freshness"] = await freshness(url, nats_url, namespace, args.rate,
                                              args.freshness_seconds, args.per_event,
                                              database_url)
        return result
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)
        if not args.keep and not args.database:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif not args.database:
            # (its name on DATABASE_URL's server: the URL may carry the password)
            print(json.dumps({"kept": name}), file=sys.stderr)
        await admin.close()


async def against(args) -> dict:
    result = {"url": args.url, "search_by_clients": {
        c: await query_load(args.url, c, args.seconds) for c in args.clients}}
    result["search"] = result["search_by_clients"][args.clients[-1]]
    if args.nats_url:
        result["freshness"] = await freshness(args.url, args.nats_url, args.namespace or "",
                                              args.rate, args.freshness_seconds,
                                              args.per_event, None)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--chunk", type=int, default=20_000, help="records per set-based batch")
    p.add_argument("--clients", type=lambda v: [int(x) for x in v.split(",")], default=[1, 16],
                   help="concurrent clients, one query phase each: 1,16")
    p.add_argument("--cache-size", type=int, default=2000,
                   help="SEARCH_ANSWER_CACHE_SIZE of the service (0: every query computed)")
    p.add_argument("--database", help="a database an earlier --keep run loaded (no reload): "
                                      "its URL (the run printed its name)")
    p.add_argument("--seconds", type=float, default=30.0, help="query phase length")
    p.add_argument("--rate", type=int, default=100, help="record events per second")
    p.add_argument("--per-event", type=int, default=10, help="records per event (submission)")
    p.add_argument("--freshness-seconds", type=float, default=20.0)
    p.add_argument("--url", help="a running search service (skips the self-contained set-up)")
    p.add_argument("--nats-url", help="with --url: publish contoh events here for freshness")
    p.add_argument("--namespace", help="with --url: the platform's NATS namespace")
    p.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = p.parse_args()
    result = asyncio.run(against(args) if args.url else self_contained(args))
    for line in beside(result):
        print(line, file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
