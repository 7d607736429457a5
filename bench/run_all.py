"""`make bench`: every benchmark in one run, each next to the machine's own limit.

Starts one platform (embedded PostgreSQL and NATS unless DATABASE_URL / NATS_URL are set, the
four services as real processes), runs the benchmarks that need it, stops it, then runs the
self-contained ones. Results land in bench/results/*.json and a summary is printed.
All generated values are SAMPLE data (data contoh). Scale with BENCH_SCALE=small for a quick run;
BENCH_VILLAGE_BACKLOG_ROWS sets the backlog a village row waits under (2,000,000 by default).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_e2e import measure, platform_pids, preloaded  # noqa: E402
from bench.common import RESULTS, save, scratch, service_auth  # noqa: E402
from satudata import platform as sd  # noqa: E402
from shared.auth import Principal  # noqa: E402

SMALL = os.environ.get("BENCH_SCALE") == "small"


def run_json(name: str, args: list[str], env: dict | None = None) -> dict:
    """Run one benchmark script; its last printed JSON object is its result."""
    print(f"--- {name}: {' '.join(args)}", flush=True)
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env or os.environ.copy(),
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        result = {"error": f"exit {proc.returncode}", "stderr": proc.stderr[-2000:]}
    else:
        text = proc.stdout
        start = text.rfind("\n{")
        result = json.loads(text[start + 1:] if start >= 0 else text)
    save(name, result)
    return result


def principal_of(registry: str, key: str) -> Principal:
    """The principal the gateway would send for `key`: the registry's own answer for it."""
    response = httpx.post(f"{registry}/internal/v1/auth/resolve", json={"key": key},
                          auth=service_auth(), timeout=30)
    response.raise_for_status()
    return Principal.model_validate(response.json())


def main() -> None:
    with scratch("satudata-bench-") as state:
        infra = sd.ensure_infra(state)
        env_extra = {"GATEWAY_RATE_LIMIT_KEY": "100000000/minute",
                     "GATEWAY_RATE_LIMIT_ADDRESS": "100000000/minute",
                     "INGEST_LOG_LEVEL": "WARNING", "REGISTRY_LOG_LEVEL": "WARNING",
                     "SEARCH_LOG_LEVEL": "WARNING", "GATEWAY_LOG_LEVEL": "WARNING"}
        procs = None
        service_auth()  # one signing secret for the platform and the benchmarks that call a service
        try:  # its own servers never outlive the run, whatever fails
            try:
                sd.migrate_all(infra.database_url)
                keys = sd.seed_all(infra.database_url, state / "dev-keys.env",
                                   sample_values=False)["keys"]
                ports = sd.pick_ports(default=False)
                procs = sd.Processes(sd.service_env(infra, ports, extra=env_extra), ports,
                                     prefix_output=False, log_dir=state)
                procs.start_all()
                procs.wait_ready()
                gateway = f"http://127.0.0.1:{ports['gateway']}"
                rows = 5_000 if SMALL else 20_000
                print("--- e2e_submit_to_searchable", flush=True)
                try:  # a bench that fails is reported and the run goes on, as run_json does
                    # into a dataset already holding 1,000,000 records (50,000 small)
                    work, loaded = preloaded(gateway, keys["SATUDATA_KEY_WALIDATA"],
                                             infra.database_url, 50_000 if SMALL else 1_000_000,
                                             rows)
                    e2e = asyncio.run(measure(  # with search (freshness) and the processes (CPU)
                        gateway, keys["SATUDATA_KEY_OPD"], infra.database_url, rows, 1000, 4,
                        f"http://127.0.0.1:{ports['search']}", platform_pids(infra, procs), work)
                    ) | {"preloaded": loaded}
                except Exception as exc:  # noqa: BLE001
                    e2e = {"error": f"{type(exc).__name__}: {exc}"}
                    print(e2e, flush=True)
                save("e2e_submit_to_searchable", e2e)
                # (the key and the database's URL, with its password, travel in the environment,
                # never in argv or what is printed)
                run_json("replay_province_deadline", [  # docs/scale.md: the model's first step
                    "bench/bench_replay.py", "--base-url", gateway, "--villages", "1000",
                    "--speed", "60" if SMALL else "30"],
                    {**os.environ, "SATUDATA_KEY": keys["SATUDATA_KEY_OPD"],
                     "DATABASE_URL": infra.database_url})
                # ingest alone, signed as the gateway would sign it: through the gateway one key
                # has two uploads in flight (uploads_per_key), and 16 clients of one key measured
                # its 429s (295 of 320 on 2026-12-07), not ingest
                run_json("ingest_edge", [
                    "bench/bench_ingest.py", "--base-url", f"http://127.0.0.1:{ports['ingest']}",
                    "--principal", principal_of(f"http://127.0.0.1:{ports['registry']}",
                                                keys["SATUDATA_KEY_OPD"]).encode(),
                    "--ingest-port", str(ports["ingest"]),
                    "--submissions", "48" if SMALL else "320",
                    "--xlsx-rows", "20000" if SMALL else "100000"])
                run_json("gateway_added_latency", [
                    "bench/bench_gateway.py", "--search", f"http://127.0.0.1:{ports['search']}",
                    "--gateway", gateway, "--requests", "500" if SMALL else "2000",
                    "--gateway-pid", str(procs.procs["gateway"].pid)])
            finally:
                if procs:
                    procs.stop()
            env = {**os.environ,
                   "DATABASE_URL": infra.database_url.rpartition("/")[0] + "/postgres"}
            run_json("registry_apply", ["bench/bench_registry.py",
                                        "--records", "50000" if SMALL else "1000000"], env)
            # ageing: CPU per new row at 0 and 1M records, with and without held values
            run_json("ageing", ["bench/bench_ageing.py",
                                "--records", "50000" if SMALL else "1000000",
                                "--held", "2000" if SMALL else "10000"], env)
            run_json("search", ["bench/bench_search.py",
                                "--records", "50000" if SMALL else "1000000"],
                     {**env, "NATS_URL": infra.nats_url})
            # the same mix beside tantivy over the same documents (the bench extra brings it)
            run_json("search_beside_peer", ["bench/bench_search_peer.py",
                                            "--records", "50000" if SMALL else "1000000",
                                            "--seconds", "10" if SMALL else "30"],
                     {**env, "NATS_URL": infra.nats_url})
        finally:
            infra.stop()
    # (the platform's folder, 3 GB with its 1,000,000 records, is gone by now)
    # its own platform per replica count (1, 2, 4 registry replicas), on its own servers
    # (rows of real years over the demo dataset's keys: three runs of 18,000 fill 192 years)
    run_json("registry_replicas", ["bench/bench_registry_replicas.py",
                                   "--rows", "10000" if SMALL else "18000"])
    # a village row under one publisher's backlog (54,000 rows, the most the sample keys of
    # real years hold; BENCH_VILLAGE_BACKLOG_ROWS)
    run_json("village_row_under_backlog", [
        "bench/bench_village_backlog.py", "--backlog-rows",
        os.environ.get("BENCH_VILLAGE_BACKLOG_ROWS", "20000" if SMALL else "54000")])
    summary = {p.stem: json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))}
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"results in {RESULTS}")


if __name__ == "__main__":
    main()
