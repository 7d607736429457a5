"""First benchmark: N rows through the gateway until all are searchable.

Reported as rows per second next to a raw PostgreSQL COPY of the same rows on the same server,
measured in the same run, and the ratio between them. Values are SAMPLE data (contoh).

    python bench/bench_e2e.py --rows 20000     # starts its own platform (embedded servers)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import raw_copy_rows_per_second, sample_rows, save  # noqa: E402
from satudata import platform as sd  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def villages() -> list[str]:
    with (ROOT / "data" / "wilayah_6408_kutai_timur.csv").open() as f:
        return [r["code"] for r in csv.DictReader(f) if r["level"] in ("desa", "kelurahan")]


async def searchable_count(client: httpx.AsyncClient, periods: tuple[str, str]) -> int:
    r = await client.get("/v1/search", params={"kind": "record", "dataset": "jumlah-penduduk",
                                                "period_from": periods[0],
                                                "period_to": periods[1], "limit": 1})
    r.raise_for_status()
    return int(r.json().get("total", 0))


async def measure(gateway: str, key: str, database_url: str, n: int, per_submission: int,
                  concurrency: int) -> dict:
    rows = sample_rows(n, villages())
    periods = (rows[0]["period"], rows[-1]["period"])
    batches = [rows[i:i + per_submission] for i in range(0, n, per_submission)]
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=gateway, timeout=120, limits=limits) as client:
        base = await searchable_count(client, periods)
        sem = asyncio.Semaphore(concurrency)

        async def submit(batch):
            async with sem:
                r = await client.post("/v1/submissions", headers=headers,
                                      json={"dataset": "jumlah-penduduk", "rows": batch})
                r.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(submit(b) for b in batches))
        accepted = time.perf_counter() - started
        while await searchable_count(client, periods) < base + n:
            if time.perf_counter() - started > 600:
                raise TimeoutError("rows not searchable within 10 minutes")
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    copy_rate = await raw_copy_rows_per_second(
        database_url, [(r["region"], r["period"], r["jenis_kelamin"], str(r["jumlah"]))
                       for r in rows])
    rate = n / elapsed
    return {"rows": n, "rows_per_submission": per_submission, "concurrency": concurrency,
            "seconds_to_accept": round(accepted, 3),
            "seconds_until_all_searchable": round(elapsed, 3),
            "rows_per_second_end_to_end": round(rate, 1),
            "raw_copy_rows_per_second": round(copy_rate, 1),
            "ratio_to_raw_copy": round(rate / copy_rate, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--per-submission", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="satudata-bench-"))
    infra = sd.ensure_infra(state)
    procs = None
    try:
        sd.migrate_all(infra.database_url)
        summary = sd.seed_all(infra.database_url, state / "dev-keys.env", sample_values=False)
        ports = sd.pick_ports(default=False)
        procs = sd.Processes(sd.service_env(infra, ports), ports, prefix_output=False,
                             log_dir=state)
        procs.start_all()
        procs.wait_ready()
        result = asyncio.run(measure(f"http://127.0.0.1:{ports['gateway']}",
                                     summary["keys"]["SATUDATA_KEY_OPD"], infra.database_url,
                                     args.rows, args.per_submission, args.concurrency))
        save("e2e_submit_to_searchable", result)
    finally:
        if procs:
            procs.stop()
        infra.stop()


if __name__ == "__main__":
    main()
