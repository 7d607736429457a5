"""The limits bench_search.py prints beside its figures: the search goals, and floors measured
in the same run on the same machine (the machine is shared, so only same-run floors compare)."""

from __future__ import annotations

import time

import asyncpg
import httpx

from bench.common import service_auth

GOAL_P95_MS = 50.0
GOAL_FRESHNESS_P99_S = 1.0


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def floors(url: str, database_url: str, samples: int = 50) -> dict:
    """Limits measured beside the figures, in the same run on the same machine: the service's
    own round trip (/healthz, no SQL), and PostgreSQL finding the first 20
    matches of the most common word unranked (what a page cannot beat)."""
    async with httpx.AsyncClient(base_url=url, timeout=30, auth=service_auth()) as client:
        http = []
        for _ in range(samples):
            t = time.perf_counter()
            await client.get("/healthz")
            http.append((time.perf_counter() - t) * 1000)
    conn = await asyncpg.connect(database_url)
    match = []
    for _ in range(samples):
        t = time.perf_counter()
        await conn.fetch("SELECT doc_id FROM search.documents "
                         "WHERE tsv @@ to_tsquery('simple', 'penduduk') LIMIT 20")
        match.append((time.perf_counter() - t) * 1000)
    common = await conn.fetchval("SELECT count(*) FILTER (WHERE tsv @@ to_tsquery('simple', "
                                 "'penduduk'))::float8 / greatest(count(*), 1) "
                                 "FROM search.documents")
    await conn.close()
    return {"service_round_trip_p50_ms": round(pct(http, 50), 2),
            "match_first_20_unranked_p50_ms": round(pct(match, 50), 2),
            "common_word_share_of_documents": round(common, 3)}


def beside(result: dict) -> list[str]:
    """Each figure next to its limit, as the goals' table reads."""
    lines = []
    for clients, run in sorted(result.get("search_by_clients", {}).items()):
        lines.append(f"search {clients:>2} client(s): p50 {run['p50_ms']} ms, p95 "
                     f"{run['p95_ms']} ms, errors {run['errors']} | goal p95 < {GOAL_P95_MS} "
                     f"ms; floors {result.get('floors')}")
    fresh = result.get("freshness") or {}
    if fresh:
        lines.append(f"freshness at {fresh['events_per_s'] * fresh['records_per_event']} rows/s: "
                     f"p50 {fresh.get('p50_s')} s, p99 {fresh.get('p99_s')} s | goal p99 < "
                     f"{GOAL_FRESHNESS_P99_S} s")
    return lines


