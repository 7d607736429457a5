"""The gateway's added latency: one search query straight to the search service and through
the gateway, at N concurrent clients; prints JSON with p50/p99 of each and the difference.

    python bench/bench_gateway.py --search http://127.0.0.1:8003 --gateway http://127.0.0.1:8000

Targets: added p50 under 2 ms, added p99 under 10 ms. Each side gets a warm-up, then the two
are measured in alternating rounds so drift on the machine affects both alike. The gateway's
rate limit must allow the load (GATEWAY_RATE_LIMIT_ADDRESS, e.g. 1000000/minute).

On a busy machine the latencies move with everyone else's work; ``--gateway-pid`` adds the
gateway process's own CPU time per proxied request (from /proc), which does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import service_auth  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def measure(base: str, path: str, clients: int, requests: int,
                  encoding: str = "identity", auth: httpx.Auth | None = None) -> list[float]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30, auth=auth,
                                 headers={"Accept-Encoding": encoding}) as client:
        latencies: list[float] = []
        per_client = max(1, requests // clients)

        async def worker():
            for _ in range(per_client):
                started = time.perf_counter()
                r = await client.get(path)
                latencies.append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"{base}{path} answered {r.status_code}: {r.text[:200]}")

        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", required=True, help="search service base URL")
    parser.add_argument("--gateway", required=True, help="gateway base URL")
    parser.add_argument("--query", default="/v1/search?q=penduduk&limit=10")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gateway-pid", type=int, default=0,
                        help="the gateway's process id: also print its CPU ms per request")
    parser.add_argument("--gzip", action="store_true",
                        help="ask for gzip (the gateway then compresses; the service never does)")
    args = parser.parse_args()

    auth = service_auth()  # the service itself answers signed calls only, as the gateway signs
    await measure(args.search, args.query, args.clients, 200, auth=auth)   # warm-up
    await measure(args.gateway, args.query, args.clients, 200)
    direct: list[float] = []
    via: list[float] = []
    gateway_cpu = 0.0
    for _ in range(args.rounds):
        direct += await measure(args.search, args.query, args.clients, args.requests,
                                auth=auth)
        before = cpu_seconds(args.gateway_pid) if args.gateway_pid else 0.0
        via += await measure(args.gateway, args.query, args.clients, args.requests,
                             "gzip" if args.gzip else "identity")
        if args.gateway_pid:
            gateway_cpu += cpu_seconds(args.gateway_pid) - before

    def summary(values):
        return {"p50_ms": round(pct(values, 0.50), 3), "p99_ms": round(pct(values, 0.99), 3),
                "mean_ms": round(statistics.fmean(values), 3), "n": len(values)}

    d, g = summary(direct), summary(via)
    print(json.dumps({
        "query": args.query, "clients": args.clients, "gzip": args.gzip, "direct": d, "gateway": g,
        "added_p50_ms": round(g["p50_ms"] - d["p50_ms"], 3),
        "added_p99_ms": round(g["p99_ms"] - d["p99_ms"], 3),
        "targets": {"added_p50_ms": 2.0, "added_p99_ms": 10.0},
        **({"gateway_cpu_ms_per_request": round(1000 * gateway_cpu / len(via), 3)}
           if args.gateway_pid else {}),
    }, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
