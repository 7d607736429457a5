"""Ingest edge: accepted submissions/s and rows/s, and peak RSS while taking a 100k-row XLSX.

    .venv/bin/python bench/bench_ingest.py --base-url http://localhost:8000 --key $SATUDATA_KEY_OPD

Against a running platform (through the gateway, with an API key). To measure ingest alone,
point ``--base-url`` at it (http://127.0.0.1:8002) and pass ``--principal`` (the base64url
``X-Satudata-Principal`` value the gateway would send) instead of ``--key``.

1. ``--submissions`` JSON submissions of ``--rows`` rows each from ``--concurrency`` concurrent
   clients: time until every one is answered 202 (accepted and durably stored with its outbox).
2. One ``--xlsx-rows`` XLSX upload, while psutil samples the ingest process's RSS every 20 ms
   (``--pid``, or the process listening on ``--ingest-port``).

All values are SAMPLE DATA (data contoh), generated here. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import tempfile
import threading
import time
import sys
import uuid
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import service_auth  # noqa: E402
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def villages() -> list[str]:
    with open(ROOT / "data" / "wilayah_6408_kutai_timur.csv", newline="") as fh:
        codes = [r["code"] for r in csv.DictReader(fh) if r["level"] in ("desa", "kelurahan")]
    return codes or ["64.08.04.2001"]


def sample_rows(n: int, codes: list[str], start_year: int) -> list[dict]:
    """SAMPLE (contoh) rows with distinct (village, year, sex) keys."""
    rows, year = [], start_year
    while len(rows) < n:
        for code in codes:
            for sex in ("L", "P"):
                rows.append({"region": code, "period": str(year), "jenis_kelamin": sex,
                             "jumlah": (hash((code, year, sex)) % 5000) + 100})
        year += 1
    return rows[:n]


def auth(args) -> httpx.Auth | None:
    """Straight to ingest (--principal), the call is signed as the gateway would sign it."""
    return service_auth("gateway") if args.principal else None


def headers(args) -> dict[str, str]:
    if args.principal:
        return {"X-Satudata-Principal": args.principal}
    return {"Authorization": f"Bearer {args.key}"}


async def throughput(args, codes: list[str]) -> dict:
    per_client = args.submissions // args.concurrency
    latencies: list[float] = []
    failures: dict[int, int] = {}

    async def client_loop(n: int, client: httpx.AsyncClient) -> None:
        for i in range(per_client):
            rows = sample_rows(args.rows, codes, 1000 + (n * per_client + i) % 900)
            started = time.perf_counter()
            response = await client.post(
                "/v1/submissions", json={"dataset": args.dataset, "rows": rows},
                headers={**headers(args), "Idempotency-Key": str(uuid.uuid4())})
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 202:
                failures[response.status_code] = failures.get(response.status_code, 0) + 1

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=args.base_url, timeout=120, limits=limits,
                                 auth=auth(args)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(n, client) for n in range(args.concurrency)))
        elapsed = time.perf_counter() - started
    total = per_client * args.concurrency
    accepted = total - sum(failures.values())
    latencies.sort()
    return {"submissions": total, "rows_per_submission": args.rows,
            "concurrency": args.concurrency, "seconds": round(elapsed, 2),
            "accepted_submissions_per_s": round(accepted / elapsed, 1),
            "accepted_rows_per_s": round(accepted * args.rows / elapsed),
            "p50_ms": round(latencies[len(latencies) // 2], 1),
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1),
            "failures_by_status": failures}


def write_xlsx(path: Path, n: int, codes: list[str]) -> None:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("data contoh")
    ws.append(["Kode Wilayah", "Tahun", "Jenis Kelamin", "Jumlah"])
    for row in sample_rows(n, codes, 100):
        ws.append([row["region"], int(row["period"]), row["jenis_kelamin"], row["jumlah"]])
    wb.save(path)


def find_pid(port: int) -> int | None:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return conn.pid
    return None


def xlsx_peak_rss(args, codes: list[str]) -> dict:
    pid = args.pid or find_pid(args.ingest_port)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contoh-100k.xlsx"
        write_xlsx(path, args.xlsx_rows, codes)
        size = path.stat().st_size
        process = psutil.Process(pid) if pid else None
        baseline = process.memory_info().rss if process else None
        peak = {"rss": baseline or 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                try:
                    peak["rss"] = max(peak["rss"], process.memory_info().rss)
                except psutil.Error:
                    return
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        if process:
            sampler.start()
        started = time.perf_counter()
        with open(path, "rb") as fh:
            response = httpx.post(f"{args.base_url}/v1/submissions",
                                  data={"dataset": args.dataset},
                                  files={"file": (path.name, fh, XLSX)}, headers=headers(args),
                                  auth=auth(args), timeout=600)
        elapsed = time.perf_counter() - started
        stop.set()
        if process:
            sampler.join()
    mb = 1024 * 1024
    return {"rows": args.xlsx_rows, "file_mb": round(size / mb, 1), "status": response.status_code,
            "seconds": round(elapsed, 2), "ingest_pid": pid,
            "rss_before_mb": round(baseline / mb, 1) if baseline else None,
            "rss_peak_mb": round(peak["rss"] / mb, 1) if process else None,
            "rss_growth_mb": round((peak["rss"] - baseline) / mb, 1) if process else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default=os.environ.get("SATUDATA_URL",
                                                             "http://localhost:8000"))
    parser.add_argument("--key", default=os.environ.get("SATUDATA_KEY"))
    parser.add_argument("--principal", help="X-Satudata-Principal value (ingest without gateway)")
    parser.add_argument("--dataset", default="jumlah-penduduk")
    parser.add_argument("--submissions", type=int, default=320)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--pid", type=int, help="ingest process id (default: found by port)")
    parser.add_argument("--ingest-port", type=int, default=8002)
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if not (args.key or args.principal):
        parser.error("--key (or SATUDATA_KEY) or --principal is required")
    codes = villages()
    result = {"note": "SAMPLE DATA (data contoh), generated by the benchmark"}
    if not args.skip_throughput:
        result["edge_throughput"] = asyncio.run(throughput(args, codes))
    result["xlsx_100k"] = xlsx_peak_rss(args, codes)
    out = io.StringIO()
    json.dump({"bench_ingest": result}, out, indent=2)
    print(out.getvalue())


if __name__ == "__main__":
    main()
