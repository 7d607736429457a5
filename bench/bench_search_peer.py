"""Search beside a peer: the project's search service and tantivy (bench/tantivy_peer.py) over
the same documents, the same query mix, in the same run, alternated.

A fresh database gets N generated sample records (data contoh, NOT official statistics) through
the indexer's set-based functions (bench_search.bulk_load); its documents are exported into a
tantivy index set up as the speed issue describes; both are served by uvicorn with the same
flags (the project's answer cache off). Then:
- 1 client: every query of the mix against each, alternated query by query, ``--rounds`` times;
  p50 per query kind and p95 over the mix, each with the ratio project / peer;
- 16 clients (``--clients``): phases of ``--seconds`` alternated project, peer, project, peer;
  p50 / p95 over the mix and errors.

    .venv/bin/python bench/bench_search_peer.py --records 1000000
Prints one JSON object (``make bench`` runs it; ``pip install -e .[bench]`` brings tantivy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_search import QUERIES, _service, bulk_load  # noqa: E402
from bench.common import service_auth  # noqa: E402
from bench.search_limits import pct  # noqa: E402
from bench import tantivy_peer  # noqa: E402
from shared.db import run_migrations  # noqa: E402
from shared.infra import free_port  # noqa: E402

EXPORT = """SELECT doc_id, tsv::text AS tsv, kind, dataset, topic, publisher, kecamatan_code,
                   period, region_code FROM search.documents"""


async def build_peer(database_url: str, path: str, batch: int = 20_000) -> dict:
    """The documents exported batch by batch into the peer's index (memory stays flat)."""
    t0 = time.perf_counter()
    w, n = tantivy_peer.writer(path), 0
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            cursor = await conn.cursor(EXPORT)
            while rows := await cursor.fetch(batch):
                n += await asyncio.to_thread(tantivy_peer.add, w, [dict(r) for r in rows])
    finally:
        await conn.close()
    await asyncio.to_thread(tantivy_peer.commit, w)
    return {"documents": n, "seconds": round(time.perf_counter() - t0, 1)}


async def _peer_service(path: str):
    port = free_port("127.0.0.1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.tantivy_peer:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], cwd=ROOT, env={**os.environ, "PEER_INDEX": path})
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as c:
        for _ in range(300):
            try:
                if (await c.get(f"{url}/readyz")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    return proc, url


async def one_client(project: str, peer: str, rounds: int) -> dict:
    """Every query against each, alternated query by query."""
    took: dict[str, dict[str, list[float]]] = {"project": {}, "peer": {}}
    errors = {"project": 0, "peer": 0}
    async with httpx.AsyncClient(base_url=project, timeout=60, auth=service_auth()) as a, \
            httpx.AsyncClient(base_url=peer, timeout=60) as b:
        for _warm in range(2):
            for _label, params in QUERIES:
                await a.get("/v1/search", params=params)
                await b.get("/v1/search", params=params)
        for _ in range(rounds):
            for label, params in QUERIES:
                for name, client in (("project", a), ("peer", b)):
                    t = time.perf_counter()
                    r = await client.get("/v1/search", params=params)
                    took[name].setdefault(label, []).append((time.perf_counter() - t) * 1000)
                    errors[name] += r.status_code != 200
    out: dict = {"by_kind_p50_ms": {}, "errors": errors}
    for label in sorted(took["project"]):
        p, q = pct(took["project"][label], 50), pct(took["peer"][label], 50)
        out["by_kind_p50_ms"][label] = {"project": round(p, 1), "peer": round(q, 1),
                                        "ratio": round(p / q, 2) if q else None}
    every = {name: [x for v in took[name].values() for x in v] for name in took}
    out["p95_ms"] = {name: round(pct(v, 95), 1) for name, v in every.items()}
    out["p95_ratio"] = round(out["p95_ms"]["project"] / out["p95_ms"]["peer"], 2)
    return out


async def _phase(url: str, auth, clients: int, seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(i: int):
        nonlocal errors
        rnd = random.Random(i)
        async with httpx.AsyncClient(base_url=url, timeout=60, auth=auth) as client:
            while time.perf_counter() < deadline:
                _label, params = rnd.choice(QUERIES)
                t = time.perf_counter()
                r = await client.get("/v1/search", params=params)
                latencies.append((time.perf_counter() - t) * 1000)
                errors += r.status_code != 200
    await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies, errors


async def many_clients(project: str, peer: str, clients: int, seconds: float) -> dict:
    got = {"project": ([], 0), "peer": ([], 0)}
    for _ in range(2):  # project, peer, project, peer
        for name, url, auth in (("project", project, service_auth()), ("peer", peer, None)):
            lat, err = await _phase(url, auth, clients, seconds / 2)
            got[name] = (got[name][0] + lat, got[name][1] + err)
    out = {name: {"queries": len(lat), "errors": err, "p50_ms": round(pct(lat, 50), 1),
                  "p95_ms": round(pct(lat, 95), 1)} for name, (lat, err) in got.items()}
    out["p95_ratio"] = round(out["project"]["p95_ms"] / out["peer"]["p95_ms"], 2)
    return {"clients": clients, **out}


async def run(args) -> dict:
    server_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    base = server_url.rpartition("/")[0]
    name = f"bench_peer_{uuid.uuid4().hex[:8]}"
    database_url = args.database or f"{base}/{name}"
    admin = await asyncpg.connect(f"{base}/postgres")
    index_dir = tempfile.mkdtemp(prefix="satudata-peer-")
    procs = []
    try:
        if args.database:
            load = {"reused": args.database}
        else:
            await admin.execute(f'CREATE DATABASE "{name}"')
            await asyncio.to_thread(run_migrations, ROOT / "services" / "search", database_url)
            load = await bulk_load(database_url, args.records, args.chunk)
        peer_build = await build_peer(database_url, index_dir)
        print(json.dumps({"loaded": load, "peer": peer_build}), file=sys.stderr)
        proc, project = await _service(database_url, nats_url, f"peer{uuid.uuid4().hex[:6]}", 0)
        procs.append(proc)
        proc, peer = await _peer_service(index_dir)
        procs.append(proc)
        result = {"records": args.records, "load": load, "peer_build": peer_build,
                  "one_client": await one_client(project, peer, args.rounds)}
        result["many_clients"] = [await many_clients(project, peer, c, args.seconds)
                                  for c in args.clients]
        return result
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(index_dir, ignore_errors=True)
        if not args.database:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def beside(result: dict) -> list[str]:
    lines = ["search beside tantivy (same documents, same mix, same run; project / peer):"]
    for label, v in result["one_client"]["by_kind_p50_ms"].items():
        lines.append(f"  1 client p50 {label:<12} {v['project']:>7} ms / {v['peer']:>7} ms"
                     f"  = {v['ratio']}x")
    p95 = result["one_client"]["p95_ms"]
    lines.append(f"  1 client p95 (mix)       {p95['project']:>7} ms / {p95['peer']:>7} ms"
                 f"  = {result['one_client']['p95_ratio']}x")
    for m in result["many_clients"]:
        lines.append(f"  {m['clients']} clients p95 (mix)     {m['project']['p95_ms']:>7} ms / "
                     f"{m['peer']['p95_ms']:>7} ms  = {m['p95_ratio']}x; errors "
                     f"{m['project']['errors']} / {m['peer']['errors']}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--chunk", type=int, default=20_000)
    p.add_argument("--rounds", type=int, default=20, help="1-client passes over the mix")
    p.add_argument("--clients", type=lambda v: [int(x) for x in v.split(",")], default=[16])
    p.add_argument("--seconds", type=float, default=30.0, help="per many-client comparison")
    p.add_argument("--database", help="a search database an earlier run loaded (no reload)")
    args = p.parse_args()
    result = asyncio.run(run(args))
    for line in beside(result):
        print(line, file=sys.stderr)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
