"""Registry apply rate with 1, 2 and 4 registry replicas, per replica and per core.

    python bench/bench_registry_replicas.py --rows 20000 --replicas 1,2,4

Starts the platform once per replica count (embedded PostgreSQL and NATS, shared by the runs;
the services as real processes, registry ``--replicas``-style), sends N SAMPLE (contoh) rows
through the gateway, and measures the registry's rate from its own ``applied_chunks`` table:
rows / (last applied_at - first applied_at) for this run's chunks, so ingest's accept time is
left out. Printed next to the machine's cores and a raw COPY of the same rows on the same
server (the limit), with what limits the scaling. (A village row's latency under a backlog is
bench/bench_village_backlog.py.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_e2e import fresh_start_year, villages  # noqa: E402
from bench.common import raw_copy_rows_per_second, sample_rows, save, scratch  # noqa: E402
from satudata import platform as sd  # noqa: E402


def _cpu_seconds(pids: list[int]) -> float:
    """CPU time of these processes, their live children and the children they reaped
    (PostgreSQL's backends come and go under its postmaster)."""
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
            for child in proc.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    c = child.cpu_times()
                    total += c.user + c.system
        except psutil.Error:
            pass
    return total


def _postmaster(state: Path) -> list[int]:
    pid_file = state / "postgres" / "postmaster.pid"
    return [int(pid_file.read_text().split()[0])] if pid_file.exists() else []


async def _submit_all(gateway: str, key: str, rows: list[dict], per_submission: int,
                      concurrency: int) -> list[str]:
    headers = {"Authorization": f"Bearer {key}"}
    ids: list[str] = []
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as client:
        sem = asyncio.Semaphore(concurrency)

        async def submit(batch):
            async with sem:
                for _ in range(20):  # rate limits: wait as told
                    r = await client.post("/v1/submissions", headers=headers,
                                          json={"dataset": "jumlah-penduduk", "rows": batch})
                    if r.status_code != 429:
                        break
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                r.raise_for_status()
                ids.append(r.json()["id"])

        await asyncio.gather(*(submit(rows[i:i + per_submission])
                               for i in range(0, len(rows), per_submission)))
    return ids


async def _applied(database_url: str, ids: list[str], n_rows: int) -> dict:
    conn = await asyncpg.connect(database_url)
    try:
        started = time.perf_counter()
        while True:
            done = await conn.fetchval(
                "SELECT count(*) FROM ingest.submissions WHERE id = ANY($1::uuid[]) "
                "AND status IN ('completed', 'partial', 'failed')", ids)
            if done == len(ids):
                break
            if time.perf_counter() - started > 900:
                raise TimeoutError("submissions not final within 15 minutes")
            await asyncio.sleep(0.2)
        span = await conn.fetchval(
            "SELECT extract(epoch FROM max(applied_at) - min(applied_at))::float8 "
            "FROM registry.applied_chunks WHERE submission_id = ANY($1::uuid[])", ids)
    finally:
        await conn.close()
    return {"rows": n_rows, "seconds_applying": round(span, 3),
            "rows_per_second": round(n_rows / max(span, 1e-6), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--per-submission", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--replicas", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.replicas.split(",")]
    cores = os.cpu_count() or 1
    with scratch("satudata-bench-replicas-") as state:
        infra = sd.ensure_infra(state)
        runs = []
        try:
            sd.migrate_all(infra.database_url)
            summary = sd.seed_all(infra.database_url, state / "dev-keys.env", sample_values=False)
            places = villages()
            for n in counts:
                ports = sd.pick_ports(default=False)
                env = sd.service_env(infra, ports)
                sd.add_replicas(ports, env, {"registry": n})
                # The whole backlog is accepted first, held in ingest's outbox (a window of 0
                # chunks in flight), then ingest restarts with no window: the registry replicas
                # alone set the rate.
                env["INGEST_MAX_INFLIGHT_CHUNKS"] = "0"
                procs = sd.Processes(env, ports, prefix_output=False, log_dir=state)
                try:
                    procs.start_all()
                    procs.wait_ready()
                    # real years (the registry refuses others), after every year stored: three
                    # runs of 18,000 rows take 192 of the 201
                    rows = sample_rows(args.rows, places, start_year=asyncio.run(
                        fresh_start_year(infra.database_url, args.rows, len(places))))
                    ids = asyncio.run(_submit_all(f"http://127.0.0.1:{ports['gateway']}",
                                                  summary["keys"]["SATUDATA_KEY_OPD"], rows,
                                                  args.per_submission, args.concurrency))
                    procs.kill("ingest", signal.SIGTERM)
                    env["INGEST_MAX_INFLIGHT_CHUNKS"] = "1000000"
                    registry = [p.pid for k, p in procs.procs.items()
                                if sd.service_of(k) == "registry"]
                    groups = {"postgresql": _postmaster(state),
                              "registry": registry}
                    before = {g: _cpu_seconds(pids) for g, pids in groups.items()}
                    procs.start("ingest")
                    procs.wait_ready(names=["ingest"])
                    result = asyncio.run(_applied(infra.database_url, ids, len(rows)))
                    # CPU spent from ingest's restart to the end, over the seconds the rows were
                    # being applied (both are near idle before the first chunk arrives)
                    result["cores_busy_while_applying"] = {
                        g: round((_cpu_seconds(pids) - before[g]) / result["seconds_applying"], 2)
                        for g, pids in groups.items()}
                finally:
                    procs.stop()
                rate = result["rows_per_second"]
                runs.append({"replicas": n, **result, "per_replica": round(rate / n, 1),
                             "per_core": round(rate / cores, 1)})
                print(runs[-1], flush=True)
            copy_rate = asyncio.run(raw_copy_rows_per_second(
                infra.database_url,
                [(r["region"], r["period"], r["jenis_kelamin"], str(r["jumlah"]))
                 for r in sample_rows(args.rows, places, start_year=900)]))
        finally:
            infra.stop()
        base = runs[0]["rows_per_second"]
        save("registry_replicas", {
            "cores": cores, "raw_copy_rows_per_second": round(copy_rate, 1), "runs": runs,
            "speedup": {str(r["replicas"]): round(r["rows_per_second"] / base, 2) for r in runs},
            "limit": (f"{cores} cores shared by PostgreSQL, NATS, the four services and the "
                      "load generator (and, on a shared machine, anything else running): each "
                      "registry replica applies one chunk at a time, so replicas add throughput "
                      "only while there are idle cores; cores_busy_while_applying shows how many "
                      "cores PostgreSQL and the registry replicas used while the rows were "
                      "applied."),
        })


if __name__ == "__main__":
    main()
