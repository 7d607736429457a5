"""Replay a province's deadline-day peak hour at N x speed: the capacity model's first step.

The model (docs/scale.md): in a province of about 1,000 villages, the busiest hour of a
monthly deadline day brings one submission of ``--rows`` rows from every village. This plays
that hour against a running platform compressed ``--speed`` times (submissions started at an
even rate, each on time whatever the others do, like real villages), then reports whether the
platform kept up: every submission accepted (no 5xx), accept latency, submit-to-completed
latency from ingest's own timestamps, and the backlog left when the last one was sent.
Values are SAMPLE data (contoh); the seeded Kutai Timur villages stand in for a province's.

    python bench/bench_replay.py --base-url http://127.0.0.1:8000 --database-url ... \\
        --villages 1000 --speed 30          # key in SATUDATA_KEY
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_e2e import fresh_start_year, villages  # noqa: E402
from bench.common import percentiles  # noqa: E402


def submission_rows(i: int, codes: list[str], rows: int, start: int) -> list[dict]:
    """Village i's rows: its own region code and periods, so no two villages collide; years
    from `start` (after every year stored, within the registry's real periods), a distinct
    block of them per round over the villages."""
    code = codes[i % len(codes)]
    base = start + (i // len(codes)) * ((rows + 1) // 2)
    return [{"region": code, "period": str(base + j // 2), "jenis_kelamin": "LP"[j % 2],
             "jumlah": 100 + j} for j in range(rows)]


async def replay(base_url: str, key: str, database_url: str, villages_n: int, rows: int,
                 speed: float) -> dict:
    codes = villages()
    # the years it takes: one block of (rows + 1) // 2 per round over the villages
    years = -(-villages_n // len(codes)) * ((rows + 1) // 2)
    start = await fresh_start_year(database_url, years * 2 * len(codes), len(codes))
    interval = 3600.0 / speed / villages_n
    headers = {"Authorization": f"Bearer {key}"}
    ids: list[str] = []
    accept_ms: list[float] = []
    failures: dict[str, int] = {}
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=base_url, timeout=120,
                                 limits=httpx.Limits(max_connections=200)) as client:

        async def one(i: int) -> None:
            started = time.perf_counter()
            try:
                r = await client.post("/v1/submissions", headers={
                    **headers, "Idempotency-Key": f"replay-{run}-{i}"},
                    json={"dataset": "jumlah-penduduk",
                          "rows": submission_rows(i, codes, rows, start)})
            except httpx.HTTPError as exc:
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                return
            if r.status_code == 202:
                ids.append(r.json()["id"])
                accept_ms.append((time.perf_counter() - started) * 1000)
            else:
                failures[str(r.status_code)] = failures.get(str(r.status_code), 0) + 1

        t0 = time.perf_counter()
        tasks = []
        for i in range(villages_n):
            delay = t0 + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        sent_for = time.perf_counter() - t0

    conn = await asyncpg.connect(database_url)
    try:
        backlog = await conn.fetchval(
            "SELECT count(*) FROM ingest.submissions WHERE id = ANY($1::uuid[]) "
            "AND status NOT IN ('completed', 'failed')", ids)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and await conn.fetchval(
                "SELECT count(*) FROM ingest.submissions WHERE id = ANY($1::uuid[]) "
                "AND status NOT IN ('completed', 'failed')", ids):
            await asyncio.sleep(0.5)
        done = await conn.fetch(
            "SELECT (extract(epoch FROM updated_at - created_at) * 1000)::float8 AS ms, status "
            "FROM ingest.submissions WHERE id = ANY($1::uuid[])", ids)
    finally:
        await conn.close()
    completed_ms = [r["ms"] for r in done if r["status"] == "completed"]
    return {
        "model": f"peak hour of a deadline day: {villages_n} villages x {rows} rows, "
                 f"played at {speed:g}x",
        "submissions_per_second_target": round(villages_n / (3600.0 / speed), 2),
        "rows_per_second_target": round(villages_n * rows / (3600.0 / speed), 1),
        "seconds_to_send": round(sent_for, 1),
        "accepted": len(ids), "refused_or_failed": failures,
        "accept_latency": percentiles(accept_ms) if accept_ms else None,
        "submit_to_completed": percentiles(completed_ms) if completed_ms else None,
        "completed": len(completed_ms),
        "backlog_when_last_sent": backlog,
        "kept_up": not failures and len(completed_ms) == villages_n and backlog <= max(
            5, villages_n // 100),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base-url", default=os.environ.get("SATUDATA_URL", "http://127.0.0.1:8000"))
    p.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    p.add_argument("--villages", type=int, default=1000)
    p.add_argument("--rows", type=int, default=20, help="rows per village submission")
    p.add_argument("--speed", type=float, default=30.0, help="N x real time")
    args = p.parse_args()
    key = os.environ["SATUDATA_KEY"]
    print(json.dumps(asyncio.run(replay(args.base_url, key, args.database_url, args.villages,
                                        args.rows, args.speed)), indent=2))


if __name__ == "__main__":
    main()
