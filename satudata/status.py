"""``satudata status``: the platform at a glance, from each service's /readyz and /metrics.

Which platform: the service URLs that ``satudata up`` wrote to ``.satudata/services.env``
(every replica), overridden by ``SATUDATA_<SERVICE>_URLS`` (comma-separated), else the
ports in ``<SERVICE>_PORT`` or the defaults on 127.0.0.1. Exits 1 when something needs an
operator (a service not ready, stalled submissions, dead letters), so it can be scripted.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Annotated

import httpx
import typer
from prometheus_client.parser import text_string_to_metric_families

from satudata import ownership, platform

SERVICES_FILE = "services.env"


def service_urls() -> dict[str, list[str]]:
    found = {name: [f"http://127.0.0.1:{os.environ.get(f'{name.upper()}_PORT', port)}"]
             for name, port in platform.DEFAULT_PORTS.items()}
    for key, value in platform.read_env_file(platform.home() / SERVICES_FILE).items():
        name = key.removeprefix("SATUDATA_").removesuffix("_URLS").lower()
        if name in found and value:
            found[name] = value.split(",")
    for name in found:
        value = os.environ.get(f"SATUDATA_{name.upper()}_URLS")
        if value:
            found[name] = value.split(",")
    return found


def write_service_urls(urls: dict[str, list[str]]) -> None:
    path = platform.home() / SERVICES_FILE
    path.write_text("# written by `satudata up`; read by `satudata status`\n" + "".join(
        f"SATUDATA_{name.upper()}_URLS={','.join(u)}\n" for name, u in urls.items()))


def samples(text: str) -> list[tuple[str, dict, float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples]


def latency_p95(rows) -> float | None:
    """p95 over every route, from the histogram's cumulative buckets (upper bound)."""
    buckets: dict[float, float] = {}
    for name, labels, value in rows:
        if name == "satudata_http_request_duration_seconds_bucket":
            le = float(labels["le"])
            buckets[le] = buckets.get(le, 0.0) + value
    if not buckets or buckets.get(float("inf"), 0) == 0:
        return None
    total = buckets[float("inf")]
    for le in sorted(buckets):
        if buckets[le] >= 0.95 * total:
            return le
    return None


def one(rows, name: str, **labels) -> float | None:
    values = [v for n, lab, v in rows if n == name and all(lab.get(k) == w
                                                          for k, w in labels.items())]
    return sum(values) if values else None


def probe(url: str, client: httpx.Client) -> dict:
    out: dict = {"url": url}
    try:
        ready = client.get(f"{url}/readyz")
        out["ready"] = ready.status_code == 200
        out["checks"] = ready.json().get("checks", {})
        out["rows"] = samples(client.get(f"{url}/metrics").text)
    except (httpx.HTTPError, ValueError) as exc:
        out.update(ready=False, error=type(exc).__name__, rows=[])
    return out


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:g}{unit}" if value != float("inf") else ">30s"


def _ago(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


def _connectors(rows) -> list[str]:
    """What the connector doors took in (ingest) and the upstream pushes' states (registry)."""
    out = []
    doors = sorted({lab["connector"] for n, lab, _v in rows
                    if n == "satudata_connector_events_total"})
    for c in doors:
        counts = {o: _fmt(one(rows, "satudata_connector_events_total", connector=c, outcome=o))
                  for o in ("received", "rows", "refused", "failed")}
        sources = one(rows, "satudata_connector_sources", connector=c)
        age = one(rows, "satudata_connector_last_sync_age_seconds", connector=c)
        synced = (f"; {sources:g} publishers synced, the newest {_ago(age)} ago"
                  if sources and age is not None and age >= 0 else "")
        out.append(f"{c}: " + ", ".join(f"{o} {v}" for o, v in counts.items()) + synced)
    pushes = sorted({lab["connector"] for n, lab, _v in rows
                     if n == "satudata_connector_pushes"})
    for c in pushes:
        out.append(f"{c} pushes: " + ", ".join(
            f"{st} {_fmt(one(rows, 'satudata_connector_pushes', connector=c, state=st))}"
            for st in ("pending", "sent", "refused", "failed")))
    return out


def owner_line() -> str:
    """Who owns the embedded servers of this data folder (``SATUDATA_HOME``), if anyone."""
    who = ownership.HomeLock(platform.home()).holder()
    if who is None:
        return f"platform: none running on {platform.home()}"
    if who.get("kind") != "up":
        return (f"platform: none running; `satudata {who.get('command', '?')}` (pid "
                f"{who.get('pid')}) is using {platform.home()}")
    since = datetime.fromtimestamp(who.get("since", 0)).isoformat(timespec="seconds")
    servers = "; ".join(f"{name} pid {s.get('pid')} on 127.0.0.1:{s.get('port')}"
                        for name, s in (who.get("servers") or {}).items())
    return (f"platform: satudata up pid {who.get('pid')} since {since} owns "
            f"{servers or 'no embedded server (DATABASE_URL/NATS_URL)'}; "
            f"gateway {who.get('gateway')} ({who.get('stage', '?')})")


def status(
    timeout: Annotated[float, typer.Option(help="seconds to wait for each service")] = 5.0,
) -> None:
    """Print each service's readiness, latency, outbox, consumers, dead letters, stalled
    submissions and index freshness (what the Grafana dashboard shows, at a glance)."""
    trouble = False
    lines = [f"{'service':<9} {'replica':<24} {'ready':<6} {'p95':>6} {'outbox':>7}  detail"]
    dead = 0.0
    with httpx.Client(timeout=timeout) as client:
        for name, urls in service_urls().items():
            for url in urls:
                p = probe(url, client)
                rows = p["rows"]
                trouble |= not p["ready"]
                p95 = latency_p95(rows)
                detail = []
                if not p["ready"]:
                    bad = {k: v for k, v in p.get("checks", {}).items() if v != "ok"}
                    detail.append(f"NOT READY {p.get('error') or bad}")
                for n, lab, v in rows:
                    if n == "satudata_consumer_pending":
                        c = lab["consumer"]
                        detail.append(
                            f"{c}: pending {v:g}, ack-pending "
                            f"{_fmt(one(rows, 'satudata_consumer_ack_pending', consumer=c))}, "
                            f"redelivered "
                            f"{_fmt(one(rows, 'satudata_consumer_redelivered', consumer=c))}")
                stalled = one(rows, "satudata_submissions_stalled")
                if stalled is not None:
                    unfinished = one(rows, "satudata_submissions_unfinished")
                    detail.append(f"submissions unfinished {_fmt(unfinished)}, "
                                  f"stalled {_fmt(stalled)}")
                    trouble |= stalled > 0
                detail += _connectors(rows)
                trouble |= (one(rows, "satudata_connector_pushes", state="failed") or 0) > 0
                lag = one(rows, "search_index_lag_seconds")
                if lag is not None:
                    detail.append(f"index lag {lag:.1f}s")
                dead = max(dead, one(rows, "satudata_dead_letters") or 0)
                lines.append(
                    f"{name:<9} {url.removeprefix('http://'):<24} "
                    f"{'yes' if p['ready'] else 'NO':<6} "
                    f"{_fmt(p95 * 1000 if p95 not in (None, float('inf')) else p95, 'ms'):>6} "
                    f"{_fmt(one(rows, 'satudata_outbox_pending')):>7}  {'; '.join(detail)}")
    lines.append(f"dead letters: {dead:g}")
    trouble |= dead > 0
    lines.insert(0, owner_line())
    for line in lines:
        typer.echo(line)
    raise typer.Exit(1 if trouble else 0)
