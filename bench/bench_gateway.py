"""The gateway's added latency: one search query straight to the search service and through
the gateway, at N concurrent clients; prints JSON with p50/p99 of each and the difference.

    python bench/bench_gateway.py --search http://127.0.0.1:8003 --gateway http://127.0.0.1:8000

Targets: added p50 under 2 ms, added p99 under 10 ms. Each side gets a warm-up, then the two
are measured in alternating rounds so drift on the machine affects both alike. The gateway's
rate limit must allow the load (GATEWAY_RATE_LIMIT_ADDRESS, e.g. 1000000/minute).

On a busy machine the latencies move with everyone else's work; ``--gateway-pid`` adds the
gateway process's own CPU time per proxied request (from /proc), which does not, and measures
it beside a bare pass-through in the same rounds (``bench/passthrough.py``: uvicorn with the
gateway's flags and upstream transport, forwarding the same answer bytes from a stub, with no
key, limit, signing or ETag): ``gateway_to_bare_cpu_ratio``, target <= 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import time
import sys
from pathlib import Path

import subprocess
import tempfile
from contextlib import asynccontextmanager

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import service_auth  # noqa: E402
from shared.infra import free_port  # noqa: E402
from satudata.platform import service_command  # noqa: E402 (platform first: it imports processes)

ROOT = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def bare_pass_through(body: bytes):
    """The stub upstream and the bare proxy in front of it, as processes; yields (url, pid)."""
    folder = Path(tempfile.mkdtemp(prefix="satudata-bare-"))
    (folder / "body.json").write_bytes(body)
    stub_port, proxy_port = free_port(), free_port()

    def command(factory: str, port: int) -> list[str]:
        cmd = service_command("gateway", port)  # the gateway's own uvicorn flags
        cmd[cmd.index("services.gateway.app:create_app")] = f"bench.passthrough:{factory}"
        return cmd

    env = {**os.environ, "PASSTHROUGH_BODY": str(folder / "body.json"),
           "PASSTHROUGH_UPSTREAM": f"http://127.0.0.1:{stub_port}"}
    procs = [subprocess.Popen(command(name, port), cwd=ROOT, env=env)
             for name, port in (("stub", stub_port), ("proxy", proxy_port))]
    url = f"http://127.0.0.1:{proxy_port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    if (await client.get(url + "/")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise SystemExit("the bare pass-through did not start")
        yield url, procs[1].pid
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


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
    if args.gateway_pid:
        async with httpx.AsyncClient(base_url=args.search, auth=auth) as client:
            answer = (await client.get(args.query)).content
        async with bare_pass_through(answer) as (bare_url, bare_pid):
            await measure(bare_url, args.query, args.clients, 200)  # warm-up
            result = await rounds(args, auth, bare_url, bare_pid)
    else:
        result = await rounds(args, auth, None, 0)
    print(json.dumps(result, indent=2))


async def rounds(args, auth, bare_url: str | None, bare_pid: int) -> dict:
    """Direct, through the gateway and (with its pid) through the bare pass-through, in
    alternating rounds."""
    direct: list[float] = []
    via: list[float] = []
    bare: list[float] = []
    gateway_cpu = bare_cpu = 0.0
    for _ in range(args.rounds):
        direct += await measure(args.search, args.query, args.clients, args.requests,
                                auth=auth)
        before = cpu_seconds(args.gateway_pid) if args.gateway_pid else 0.0
        via += await measure(args.gateway, args.query, args.clients, args.requests,
                             "gzip" if args.gzip else "identity")
        if args.gateway_pid:
            gateway_cpu += cpu_seconds(args.gateway_pid) - before
        if bare_url:
            before = cpu_seconds(bare_pid)
            bare += await measure(bare_url, args.query, args.clients, args.requests)
            bare_cpu += cpu_seconds(bare_pid) - before

    def summary(values):
        return {"p50_ms": round(pct(values, 0.50), 3), "p99_ms": round(pct(values, 0.99), 3),
                "mean_ms": round(statistics.fmean(values), 3), "n": len(values)}

    d, g = summary(direct), summary(via)
    out = {
        "query": args.query, "clients": args.clients, "gzip": args.gzip, "direct": d, "gateway": g,
        "added_p50_ms": round(g["p50_ms"] - d["p50_ms"], 3),
        "added_p99_ms": round(g["p99_ms"] - d["p99_ms"], 3),
        "targets": {"added_p50_ms": 2.0, "added_p99_ms": 10.0, "gateway_to_bare_cpu_ratio": 1.5},
        **({"gateway_cpu_ms_per_request": round(1000 * gateway_cpu / len(via), 3)}
           if args.gateway_pid else {}),
    }
    if bare:
        out["bare"] = summary(bare)
        out["bare_cpu_ms_per_request"] = round(1000 * bare_cpu / len(bare), 3)
        out["gateway_to_bare_cpu_ratio"] = round(
            (gateway_cpu / len(via)) / max(bare_cpu / len(bare), 1e-9), 2)
    return out


if __name__ == "__main__":
    asyncio.run(main())
