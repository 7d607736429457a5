"""First benchmark: N rows through the gateway until all are searchable.

Reported as rows per second next to a raw PostgreSQL COPY of the same rows on the same server,
measured in the same run, and the ratio between them; with the search service's URL, also the
index freshness p99 while the pipeline ran at its full rate (from search's own histogram
``search_freshness_seconds``, the bucket bound at or above the 99th percentile). Values are
SAMPLE data (contoh).

On a platform it starts itself, also the CPU each process spent per 1,000 rows (``cpu``: the
four services, PostgreSQL with all its backends, NATS; /proc utime+stime; the benchmark's own
polling measured after the run and taken out) and the rate that CPU allows on this machine's
cores, ``cpu_bound_rows_per_second`` and ``cpu_bound_ratio_to_raw_copy``: CPU seconds per row
move much less with other load than wall time does.

Repeatable against the same platform: every run writes periods no run wrote before (years from
1900 up, above the highest year already stored, within the 1900-2100 the registry takes as
real periods), so each row is a new record; 20,000 rows over Kutai Timur's villages take 71
years, so a platform holds two such runs.

Before each run the same rows are applied set-based and rolled back (``set_based_floor``,
bench/pipeline_floor.py): the floor the pipeline's CPU is printed beside. With ``--preload N``
the platform it starts first holds N records in a bench dataset (bench/e2e_preload.py) and the
runs write the next year of those records' keys there: new rows into an aged dataset.

    python bench/bench_e2e.py --rows 20000 [--repeat 3]   # starts its own platform
    python bench/bench_e2e.py --rows 20000 --preload 1000000  # ... holding 1M records first
    python bench/bench_e2e.py --gateway URL --database-url URL [--search URL] --rows 20000
        # a running platform; the publisher key comes from SATUDATA_KEY (never argv)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import statistics
import sys
import time
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import e2e_preload, pipeline_floor, proc_cpu  # noqa: E402
from bench.common import (POPULATION, Workload, raw_copy_rows_per_second, scratch,  # noqa: E402
                          sample_rows, save, service_auth)
from satudata import platform as sd  # noqa: E402
from shared.reporting_calendar import YEARS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATASET = "jumlah-penduduk"
# the benchmark's own (contoh) years: real periods (shared.reporting_calendar.YEARS), since
# the registry refuses any other year (years 5000 up, used before, were all rejected)
FIRST_YEAR, LAST_YEAR = YEARS.start, YEARS.stop - 1
GOAL_RATIO = 0.10
GOAL_FRESHNESS_P99_S = 1.0
GOAL_CPU_MS, GOAL_POSTGRES_CPU_MS = 450, 330  # per 1,000 new rows, every process / PostgreSQL


def villages() -> list[str]:
    with (ROOT / "data" / "wilayah_6408_kutai_timur.csv").open() as f:
        return [r["code"] for r in csv.DictReader(f) if r["level"] in ("desa", "kelurahan")]


async def fresh_start_year(database_url: str, n: int, places: int,
                           workload: Workload = POPULATION) -> int:
    """The first year after every benchmark year already stored, so this run only creates."""
    conn = await asyncpg.connect(database_url)
    try:
        latest = await conn.fetchval(
            "SELECT max(r.period::int) FROM registry.records r "
            "JOIN registry.datasets d ON d.id = r.dataset_id "
            "WHERE d.slug = $1 AND r.period ~ '^[0-9]{4}$'", workload.dataset)
    finally:
        await conn.close()
    start = max(FIRST_YEAR, (latest or 0) + 1)
    if start + n // (len(workload.codes) * places) + 1 > LAST_YEAR:
        raise SystemExit(f"no fresh benchmark years left after {latest}: use a new platform")
    return start


async def _send(client: httpx.AsyncClient, method: str, url: str, **kw) -> httpx.Response:
    """A 429 (the gateway's rate limit, ingest's backlog) is waited out, as a client would."""
    while True:
        r = await client.request(method, url, **kw)
        if r.status_code != 429:
            r.raise_for_status()
            return r
        await asyncio.sleep(min(float(r.headers.get("Retry-After") or 1), 2.0))


Window = tuple[str, str, str | None]  # first year, last year, a kecamatan (None: all)


async def searchable_count(client: httpx.AsyncClient, window: Window,
                           dataset: str = DATASET) -> int:
    params = {"kind": "record", "dataset": dataset, "period_from": window[0],
              "period_to": window[1], "limit": 1}
    if window[2]:
        params["region"] = window[2]
    r = await _send(client, "GET", "/v1/search", params=params)
    return int(r.json().get("total", 0))


def windows(rows: list[dict], per_year: int) -> dict[Window, int]:
    """Year ranges holding fewer than 10,000 rows each, with the rows in each (``per_year``: a
    year's rows at most): search counts exactly only up to 10,000 matches (above, a lower bound
    flagged ``exact: false``). A year of more rows is counted by kecamatan."""
    span = max(1, 9_000 // per_year)
    start = min(int(row["period"]) for row in rows)  # this run's years only
    out: dict[Window, int] = {}
    for row in rows:
        first = start + (int(row["period"]) - start) // span * span
        key = (str(first), str(first + span - 1),
               row["region"].rsplit(".", 1)[0] if per_year > 9_000 else None)
        out[key] = out.get(key, 0) + 1
    return out


async def until_searchable(client: httpx.AsyncClient, expected: dict[Window, int],
                           started: float, every: float, dataset: str = DATASET) -> int:
    """Poll each window until all its rows are searchable (done windows are not asked);
    answers how many counting requests that took."""
    left, polls = dict(expected), 0
    while left:
        counts = await asyncio.gather(*(searchable_count(client, w, dataset) for w in left))
        polls += len(counts)
        for window, count in zip(list(left), counts):
            if count >= left[window]:
                del left[window]
        if time.perf_counter() - started > 600:
            raise TimeoutError("rows not searchable within 10 minutes")
        if left:
            await asyncio.sleep(every)
    return polls


async def cpu_per_poll(client: httpx.AsyncClient, windows: list[Window],
                       pids: dict[str, int], times: int = 60, dataset: str = DATASET
                       ) -> dict[str, float]:
    """CPU seconds one counting request costs each process, measured after the run with the
    pipeline idle: the polling is the benchmark's, not the pipeline's, and is taken out."""
    before = proc_cpu.tree_cpu_seconds(pids)
    for i in range(times):
        await searchable_count(client, windows[i % len(windows)], dataset)
    after = proc_cpu.tree_cpu_seconds(pids)
    return {name: (after[name] - before[name]) / times for name in after}


def counting_client(gateway: str, search_url: str | None) -> httpx.AsyncClient:
    """Polls the search service itself (signed) when known: a poll every 50 ms through the
    gateway would spend the address's rate limit the submissions need."""
    if search_url:
        return httpx.AsyncClient(base_url=search_url, timeout=30, auth=service_auth())
    return httpx.AsyncClient(base_url=gateway, timeout=30)


async def freshness_buckets(search_url: str | None) -> dict[float, float]:
    """Search's cumulative freshness histogram for records: {upper bound: count}."""
    if not search_url:
        return {}
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{search_url}/metrics")).text
    out: dict[float, float] = {}
    for line in text.splitlines():
        if line.startswith("search_freshness_seconds_bucket") and 'kind="record' in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            out[float("inf") if le == "+Inf" else float(le)] = float(line.rsplit(" ", 1)[1])
    return out


def p99_between(before: dict[float, float], after: dict[float, float]) -> float | None:
    """The bucket bound holding the 99th percentile of the events observed in between."""
    counts = sorted((le, after[le] - before.get(le, 0.0)) for le in after)
    if not counts or counts[-1][1] <= 0:
        return None
    for le, cumulative in counts:
        if cumulative >= 0.99 * counts[-1][1]:
            return le
    return None


async def _submit_all(client: httpx.AsyncClient, key: str, batches: list[list[dict]],
                      concurrency: int, dataset: str = DATASET) -> None:
    sem = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {key}"}

    async def submit(batch):
        async with sem:
            await _send(client, "POST", "/v1/submissions", headers=headers,
                        json={"dataset": dataset, "rows": batch})

    await asyncio.gather(*(submit(b) for b in batches))


async def measure(gateway: str, key: str, database_url: str, n: int, per_submission: int,
                  concurrency: int, search_url: str | None = None,
                  pids: dict[str, int] | None = None, workload: Workload = POPULATION) -> dict:
    """One run of ``workload``'s rows; with ``pids`` (name: pid of each process of the
    platform), also the CPU each spent per 1,000 rows and the rate that CPU allows on this
    machine's cores."""
    places = villages()
    rows = sample_rows(n, places, await fresh_start_year(database_url, n, len(places), workload),
                       workload)
    periods = (rows[0]["period"], rows[-1]["period"])
    batches = [rows[i:i + per_submission] for i in range(0, n, per_submission)]
    # the same rows, set-based, rolled back: the floor this run's work is measured against
    floor = await pipeline_floor.measure(database_url, rows, (pids or {}).get("postgres"),
                                         workload)
    limits = httpx.Limits(max_connections=concurrency + 1)
    poll_every = 0.05 if search_url else 0.25
    async with httpx.AsyncClient(base_url=gateway, timeout=120, limits=limits) as client, \
            counting_client(gateway, search_url) as counter:
        expected = windows(rows, len(places) * len(workload.codes))
        fresh_before = await freshness_buckets(search_url)
        cpu_before = proc_cpu.tree_cpu_seconds(pids or {})
        started = time.perf_counter()
        await _submit_all(client, key, batches, concurrency, workload.dataset)
        accepted = time.perf_counter() - started
        polls = await until_searchable(counter, expected, started, poll_every, workload.dataset)
        elapsed = time.perf_counter() - started
        cpu_after = proc_cpu.tree_cpu_seconds(pids or {})
        per_poll = (await cpu_per_poll(counter, list(expected), pids, dataset=workload.dataset)
                    if pids else {})
        freshness = p99_between(fresh_before, await freshness_buckets(search_url))
    copy_rate, copy_cpu = await raw_copy_with_cpu(database_url, rows, pids, workload)
    rate = n / elapsed
    result = {"rows": n, "dataset": workload.dataset,
              "rows_per_submission": per_submission, "concurrency": concurrency,
              "periods": list(periods), "seconds_to_accept": round(accepted, 3),
              "seconds_until_all_searchable": round(elapsed, 3),
              "rows_per_second_end_to_end": round(rate, 1),
              "raw_copy_rows_per_second": round(copy_rate, 1),
              "ratio_to_raw_copy": round(rate / copy_rate, 4), "goal_ratio": GOAL_RATIO,
              "freshness_p99_s": freshness, "goal_freshness_p99_s": GOAL_FRESHNESS_P99_S,
              "set_based_floor": floor,
              "load_average": [round(x, 2) for x in os.getloadavg()]}
    if pids:
        polling = {k: polls * v for k, v in per_poll.items()}
        result["cpu"] = cpu_report(proc_cpu.per_thousand_rows(
            cpu_before, {k: v - polling[k] for k, v in cpu_after.items()}, n),
            copy_cpu, copy_rate, rate, floor["cpu_ms_per_1000_rows"])
        result["cpu"]["polling_cpu_ms_per_1000_rows_taken_out"] = proc_cpu.per_thousand_rows(
            {k: 0.0 for k in polling}, polling, n)
    return result


async def raw_copy_with_cpu(database_url: str, rows: list[dict], pids: dict[str, int] | None,
                            workload: Workload = POPULATION) -> tuple[float, dict[str, float]]:
    """The raw COPY's rate, and its CPU per 1,000 rows: PostgreSQL's and this client's."""
    roots = {"postgres": pids["postgres"]} if pids and "postgres" in pids else {}
    before = proc_cpu.snapshot(roots, "copy_client")
    rate = await raw_copy_rows_per_second(
        database_url, [(r["region"], r["period"], r[workload.dimension],
                        str(r[workload.measure])) for r in rows])
    after = proc_cpu.snapshot(roots, "copy_client")
    return rate, proc_cpu.per_thousand_rows(before, after, len(rows))


def cpu_report(cpu_ms: dict[str, float], copy_ms: dict[str, float], copy_rate: float,
               rate: float, floor_ms: dict[str, float] | None = None) -> dict:
    """The platform's CPU per 1,000 rows (the bench's own client apart: it is not the
    platform), the bound it implies beside the measured ratio and the goal, COPY's own, and
    the set-based floor's for the same rows (bench/pipeline_floor.py) with the goals."""
    client = cpu_ms.pop("bench_client", None)
    report = {"cpu_ms_per_1000_rows": cpu_ms, "bench_client_cpu_ms_per_1000_rows": client,
              **proc_cpu.bound(cpu_ms, proc_cpu.cores(), copy_rate),
              "goal_ratio": GOAL_RATIO, "raw_copy_cpu_ms_per_1000_rows": copy_ms}
    # CPU seconds per row x rows per second: how many cores the platform kept busy
    report["platform_cores_busy_during_run"] = round(sum(cpu_ms.values()) / 1e6 * rate, 2)
    if floor_ms is not None:
        floor_total = sum(floor_ms.values())
        report |= {"set_based_floor_cpu_ms_per_1000_rows": floor_ms,
                   "set_based_floor_cpu_ms_per_1000_rows_total": round(floor_total, 1),
                   "ratio_to_set_based_floor": round(sum(cpu_ms.values()) / floor_total, 2)
                   if floor_total else None,
                   "goal_cpu_ms_per_1000_rows_total": GOAL_CPU_MS,
                   "goal_postgres_cpu_ms_per_1000_rows": GOAL_POSTGRES_CPU_MS}
    return report


async def measure_runs(args, gateway: str, key: str, database_url: str,
                       search_url: str | None, pids: dict[str, int] | None = None,
                       workload: Workload = POPULATION) -> dict:
    """``--repeat`` runs against the same platform; the keys are the median run's, with the
    spread of every run beside them."""
    runs = []
    for index in range(args.repeat):
        runs.append(await measure(gateway, key, database_url, args.rows, args.per_submission,
                                  args.concurrency, search_url, pids, workload)
                    | {"run": index + 1})
    runs.sort(key=lambda r: r["rows_per_second_end_to_end"])
    result = dict(runs[len(runs) // 2])
    if len(runs) > 1:
        rates = [r["rows_per_second_end_to_end"] for r in runs]
        result["runs"] = [{k: r[k] for k in ("run", "rows_per_second_end_to_end",
                                             "raw_copy_rows_per_second", "ratio_to_raw_copy",
                                             "freshness_p99_s", "load_average")}
                          | _cpu_summary(r) for r in runs]
        result["spread_rows_per_second"] = [min(rates), round(statistics.median(rates), 1),
                                            max(rates)]
    return result


def _cpu_summary(run: dict) -> dict:
    cpu = run.get("cpu")
    if not cpu:
        return {}
    return {"cpu_ms_per_1000_rows": cpu["cpu_ms_per_1000_rows"],
            "cpu_ms_per_1000_rows_total": cpu["cpu_ms_per_1000_rows_total"],
            "cpu_bound_ratio_to_raw_copy": cpu["cpu_bound_ratio_to_raw_copy"]}


def platform_pids(infra: sd.Infra, procs: sd.Processes) -> dict[str, int]:
    """The pid of each process of a platform started here: the four services, PostgreSQL's
    postmaster (its backends are its children), nats-server, and this benchmark's client."""
    pids = {name: proc.pid for name, proc in procs.procs.items()}
    for server in infra.started:
        if getattr(server, "data_dir", None) and (server.data_dir / "postmaster.pid").exists():
            pids["postgres"] = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        elif getattr(server, "process", None) is not None:
            pids["nats"] = server.process.pid
    pids["bench_client"] = os.getpid()
    return pids


def preloaded(gateway: str, walidata_key: str, database_url: str, records: int, rows: int
              ) -> tuple[Workload, dict]:
    """``records`` records loaded into the bench dataset first (bench/e2e_preload.py); the
    rows the runs then write there."""
    places = villages()
    work = e2e_preload.workload(records, len(places), rows)
    loaded = asyncio.run(e2e_preload.preload(gateway, walidata_key, database_url, places,
                                             records))
    print(f"preloaded {loaded}", file=sys.stderr, flush=True)
    return work, loaded


def _own_platform(args) -> dict:
    with scratch("satudata-bench-") as state:
        service_auth()  # one secret for the services started here and for the bench's own calls
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
            gateway, keys = f"http://127.0.0.1:{ports['gateway']}", summary["keys"]
            work, loaded = POPULATION, None
            if args.preload:
                work, loaded = preloaded(gateway, keys["SATUDATA_KEY_WALIDATA"],
                                         infra.database_url, args.preload, args.rows)
            result = asyncio.run(measure_runs(
                args, gateway, keys["SATUDATA_KEY_OPD"], infra.database_url,
                f"http://127.0.0.1:{ports['search']}", platform_pids(infra, procs), work))
            return result | ({"preloaded": loaded} if loaded else {})
        finally:
            if procs:
                procs.stop()
            infra.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--per-submission", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="runs on the same platform")
    parser.add_argument("--preload", type=int, default=0,
                        help="records loaded into a bench dataset first, the runs' rows then "
                             "go there (a platform started here only)")
    parser.add_argument("--gateway", help="a running platform's gateway (else one is started)")
    parser.add_argument("--database-url", help="with --gateway: its PostgreSQL (raw COPY)")
    parser.add_argument("--search", help="with --gateway: the search service, for freshness")
    args = parser.parse_args()
    if args.gateway:
        if args.preload:
            parser.error("--preload needs a platform started here")
        if not args.database_url or not os.environ.get("SATUDATA_KEY"):
            parser.error("--gateway needs --database-url and a publisher key in SATUDATA_KEY")
        result = asyncio.run(measure_runs(args, args.gateway, os.environ["SATUDATA_KEY"],
                                          args.database_url, args.search))
    else:
        result = _own_platform(args)
    save("e2e_submit_to_searchable", result)


if __name__ == "__main__":
    main()
