"""`make fuzz`: Schemathesis against the whole public API, as the walidata and as a village.

Starts the platform as `make up` runs it (its own embedded PostgreSQL and NATS in a temporary
folder unless DATABASE_URL / NATS_URL are set; the four services as real processes, sample
values loaded), then runs `st run` from the gateway's OpenAPI document with every check, once
with the walidata's key and once with a village's, and reports: cases run, server errors (any
5xx from the gateway) and unhandled errors in the four services' logs. Exits 1 on any.

    .venv/bin/python tests/fuzz_api.py                   # about 10,000 cases
    .venv/bin/python tests/fuzz_api.py --max-examples 20 # a quick run

The per-key case count is printed; the in-suite run (tests/e2e/test_defence_in_depth.py) is the
same with fewer examples.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import conftest  # noqa: E402,F401 - the run's signing keys, as the tests make them
from tests.e2e.harness import start_platform, stop_platform  # noqa: E402
from tests.e2e.test_defence_in_depth import LIMITS  # noqa: E402

ST = Path(sys.executable).parent / "st"


def _run(gateway: str, key: str, max_examples: int, seed: int) -> dict:
    report = Path(tempfile.mkdtemp(prefix="satudata-fuzz-")) / "run.ndjson"
    command = [str(ST), "run", f"{gateway}/openapi.json", "-H", f"Authorization: Bearer {key}",
               "--checks", "all", "--seed", str(seed), "--max-examples", str(max_examples),
               "--workers", "2", "--request-timeout", "30", "--no-shrink", "--no-color",
               "--suppress-health-check", "all", "--exclude-path", "/v1/events",
               "--report", "ndjson", "--report-ndjson-path", str(report)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=report.parent)
    text = out.stdout + out.stderr
    cases = server_errors = 0
    for line in report.read_text().splitlines():
        event = json.loads(line) if line.strip() else {}
        for record in (event.get("ScenarioFinished") or {}).get("recorder", {}).get(
                "interactions", {}).values():
            cases += 1
            status = ((record.get("response") or {}).get("status_code")) or 0
            server_errors += status >= 500
    return {"cases": cases, "server_errors": server_errors,
            "st101": "ST101" in text or "Server error" in text,
            "summary": text[text.rfind("SUMMARY"):][:3000] if "SUMMARY" in text else text[-3000:]}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=75)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()
    from shared.infra import EmbeddedNats, EmbeddedPostgres

    folder = Path(tempfile.mkdtemp(prefix="satudata-fuzz-servers-"))
    os.environ.setdefault("SATUDATA_PG_SHARED_BUFFERS", "256MB")
    pg = nats = None
    if not os.environ.get("DATABASE_URL"):
        pg = EmbeddedPostgres(folder / "pg").start()
    if not os.environ.get("NATS_URL"):
        nats = EmbeddedNats(folder / "nats").start()
    p = await start_platform(pg.url if pg else os.environ["DATABASE_URL"],
                             nats.url if nats else os.environ["NATS_URL"], sample_values=True,
                             extra_env=LIMITS, nats_urls=nats.service_urls() if nats else None)
    results = {}
    try:
        for who in ("WALIDATA", "DESA"):
            results[who] = await asyncio.to_thread(
                _run, p.gateway, p.keys[f"SATUDATA_KEY_{who}"], args.max_examples, args.seed)
            print(f"--- {who}: {results[who]['cases']} cases, "
                  f"{results[who]['server_errors']} server errors", flush=True)
            print(results[who]["summary"], flush=True)
        unhandled = {name: sum("unhandled error" in line for line in p.logs(name).splitlines())
                     for name in ("gateway", "registry", "ingest", "search")}
    finally:
        await stop_platform(p)
        if nats:
            nats.stop()
        if pg:
            pg.stop()
    total = sum(r["cases"] for r in results.values())
    bad = sum(r["server_errors"] for r in results.values()) + sum(unhandled.values())
    print(json.dumps({"cases": total, "server_errors": {k: v["server_errors"]
                                                         for k, v in results.items()},
                      "unhandled_in_logs": unhandled}, indent=2))
    return 1 if bad or any(r["st101"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
