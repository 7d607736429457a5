"""``/metrics`` for every service (Prometheus text format, prometheus_client).

What an operator needs to see, from every process:

- ``satudata_http_request_duration_seconds{method,route,status}``: latency by route *template*
  (``/v1/records/{record_id}``, never the raw path, so the series stay few).
- ``satudata_outbox_pending``: outbox rows not yet published to NATS (this service's schema).
- ``satudata_consumer_pending`` / ``_ack_pending`` / ``_redelivered{consumer}``: from
  JetStream's consumer info for the durable consumers this service reads.
- ``satudata_dead_letters``: messages kept in the DEADLETTER stream.
- ``satudata_database_up`` / ``satudata_nats_up``: whether this process reaches them now.
- extra gauges a service registers with ``Metrics.gauge_source`` (ingest: stalled submissions;
  search: index freshness; registry: SIPD pushes per state).
- ``satudata_connector_events_total{connector,outcome}`` (ingest): what each connector door
  took in: OpenSID exports and CKAN ``datastore_*`` calls ``received``, ``refused`` (a 4xx at
  the door), and the ``rows`` they became.

Values that need a database or NATS are read when Prometheus scrapes, each with a short
timeout: a scrape while PostgreSQL is away still answers, with ``database_up 0`` and the last
values it knew. Every app has its own ``CollectorRegistry``, since tests run several apps in one
process. The gateway serves its own ``/metrics`` and never proxies one: the route is added
before the gateway's catch-all.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge,
                               Histogram, generate_latest)
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger("satudata.metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
PROBE_TIMEOUT = 2.0
QUIET_PATHS = ("/metrics", "/healthz", "/readyz")
_SEGMENT = re.compile(r"[a-z][a-z0-9_-]{0,40}")


@dataclass
class ConsumerRef:
    stream: str
    durable: str


@dataclass
class Metrics:
    service: str
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    consumers: list[ConsumerRef] = field(default_factory=list)
    outbox: bool = True
    backend: bool = True  # False for the gateway: no database, no consumers of its own
    sources: list[Callable[[object], Awaitable[None]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        r = self.registry
        self.latency = Histogram(
            "satudata_http_request_duration_seconds", "HTTP request latency by route template",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=r)
        if not self.backend:
            return
        self.database_up = Gauge("satudata_database_up", "1 when PostgreSQL answered this "
                                 "scrape", registry=r)
        self.nats_up = Gauge("satudata_nats_up", "1 when JetStream answered this scrape",
                             registry=r)
        self.outbox_pending = Gauge("satudata_outbox_pending",
                                    "Outbox rows not yet published to NATS", registry=r)
        self.pending = Gauge("satudata_consumer_pending",
                             "Messages in the stream not yet delivered to the consumer",
                             ["consumer"], registry=r)
        self.ack_pending = Gauge("satudata_consumer_ack_pending",
                                 "Messages delivered and not yet acknowledged", ["consumer"],
                                 registry=r)
        self.redelivered = Gauge("satudata_consumer_redelivered",
                                 "Messages delivered more than once and still unacknowledged",
                                 ["consumer"], registry=r)
        self.dead_letters = Gauge("satudata_dead_letters",
                                  "Messages kept in the DEADLETTER stream", registry=r)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, list(labels), registry=self.registry)

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return Counter(name, doc, list(labels), registry=self.registry)

    def gauge_source(self, source: Callable[[object], Awaitable[None]]) -> None:
        """``source(runtime)`` sets its own gauges at each scrape (errors are logged)."""
        self.sources.append(source)

    async def collect(self, runtime) -> None:
        """Read the database- and NATS-backed values; never raises, never hangs."""
        if runtime is None or not self.backend:
            return
        if runtime.pool is not None:
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    if self.outbox:
                        self.outbox_pending.set(await runtime.pool.fetchval(
                            "SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
                    else:
                        await runtime.pool.fetchval("SELECT 1")
                self.database_up.set(1)
            except Exception as exc:  # noqa: BLE001 - a scrape reports, it does not fail
                log.debug("metrics: database unavailable: %s", exc)
                self.database_up.set(0)
        await self._collect_nats(runtime)
        for source in self.sources:
            try:
                async with asyncio.timeout(PROBE_TIMEOUT * 2):
                    await source(runtime)
            except Exception as exc:  # noqa: BLE001
                log.debug("metrics source failed: %s", exc)

    async def _collect_nats(self, runtime) -> None:
        js = runtime.js if runtime.nats_connected else None
        if js is None:
            self.nats_up.set(0)
            return
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                for ref in self.consumers:
                    info = await js.consumer_info(runtime.ns.stream(ref.stream), ref.durable)
                    self.pending.labels(ref.durable).set(info.num_pending or 0)
                    self.ack_pending.labels(ref.durable).set(info.num_ack_pending or 0)
                    self.redelivered.labels(ref.durable).set(info.num_redelivered or 0)
                dead = await js.stream_info(runtime.ns.stream("DEADLETTER"))
                self.dead_letters.set(dead.state.messages)
            self.nats_up.set(1)
        except Exception as exc:  # noqa: BLE001 - e.g. a consumer not bound yet
            log.debug("metrics: JetStream unavailable: %s", exc)
            self.nats_up.set(0)


def route_label(app: FastAPI, scope: Scope, status: int) -> str:
    """The route template that served the request; the gateway's catch-all keeps its first
    segment (``/v1/datasets/…``) unless nothing answered there (404), so labels stay few."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        for candidate in app.router.routes:
            match, _ = candidate.matches(scope)
            if match == Match.FULL:
                path = getattr(candidate, "path", None)
                break
    if path is None:
        return "unmatched"
    if path.endswith("{rest:path}"):
        prefix = path[:-len("{rest:path}")]
        first, _, more = scope["path"][len(prefix):].partition("/")
        # only a segment the route table knows: whatever clients send (a rate-limited random
        # path answers 429, not 404), the label set stays bounded
        known = getattr(app.state, "route_segments", frozenset())
        if status == 404 or first not in known or not _SEGMENT.fullmatch(first):
            return path
        return prefix + first + ("/…" if more else "")
    return path


class MetricsMiddleware:
    """Pure ASGI: observes latency once the response has been sent, by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics, fastapi_app: FastAPI):
        self.app, self.metrics, self.fastapi_app = app, metrics, fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in QUIET_PATHS:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_status(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            try:
                label = route_label(self.fastapi_app, scope, status["code"])
                self.metrics.latency.labels(scope.get("method", ""), label,
                                            str(status["code"])).observe(
                    time.perf_counter() - started)
            except Exception:  # noqa: BLE001 - metrics never break a request
                log.debug("metrics: could not observe a request", exc_info=True)


def install_metrics(app: FastAPI, metrics: Metrics) -> Metrics:
    """Add ``GET /metrics`` (first, before any catch-all route) and the latency middleware."""

    async def endpoint(request: Request) -> Response:
        await metrics.collect(getattr(request.state, "runtime", None))
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", endpoint, methods=["GET"], include_in_schema=False)
    app.router.routes.insert(0, app.router.routes.pop())  # before /v1/{rest:path}
    app.add_middleware(MetricsMiddleware, metrics=metrics, fastapi_app=app)
    app.state.platform_metrics = metrics
    return metrics
