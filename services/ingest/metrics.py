"""Ingest's own metrics on /metrics: unfinished and stalled submissions, and what each
connector door (OpenSID, CKAN) took in.

A submission is *stalled* when it is unfinished (``received`` or ``processing``) and nothing
has moved for ``INGEST_STALL_AFTER`` seconds (120 by default): no chunk summary came back
since its last one, or since it was accepted. Ages are read from PostgreSQL at each scrape;
while PostgreSQL is away nothing can move (every step of a submission is a write there), so
the ages last read keep growing by the clock of this process and a submission still turns
stalled: exactly when an operator needs to see it.
"""

from __future__ import annotations

import asyncio
import time

from services.ingest import store
from shared.metrics import Metrics


class SubmissionGauges:
    def __init__(self, metrics: Metrics, stalled_after: float) -> None:
        self.stalled_after = stalled_after
        self.unfinished = metrics.gauge("satudata_submissions_unfinished",
                                        "Submissions received or processing")
        self.stalled = metrics.gauge(
            "satudata_submissions_stalled",
            f"Unfinished submissions with no progress for {stalled_after:g}s")
        self._ages: list[float] = []
        self._read_at = time.monotonic()
        metrics.gauge_source(self.collect)

    async def collect(self, runtime) -> None:
        try:
            async with asyncio.timeout(2.0):
                async with runtime.pool.acquire() as conn:
                    self._ages = await store.unfinished_ages(conn)
            self._read_at = time.monotonic()
        except Exception:  # noqa: BLE001 - database away: age what we last knew
            pass
        elapsed = time.monotonic() - self._read_at
        self.unfinished.set(len(self._ages))
        self.stalled.set(sum(1 for age in self._ages if age + elapsed >= self.stalled_after))


class ConnectorEvents:
    """``satudata_connector_events_total{connector,outcome}``: a door's calls ``received`` and
    the ``rows`` they became (a dry run counts no rows), ``refused`` (4xx) and ``failed`` (a
    dependency away). Counters of this process: Prometheus sums replicas and reads resets."""

    def __init__(self, metrics: Metrics) -> None:
        self.events = metrics.counter("satudata_connector_events",
                                      "Connector calls by outcome, and the rows they became",
                                      ("connector", "outcome"))

    def received(self, connector: str, rows: int = 0) -> None:
        self.events.labels(connector, "received").inc()
        self.events.labels(connector, "rows").inc(rows)

    def stopped(self, connector: str, status_code: int) -> None:
        self.events.labels(connector, "refused" if status_code < 500 else "failed").inc()


class DoorSyncGauges:
    """``satudata_connector_sources{connector}``: publishers that ever sent through a door,
    and ``satudata_connector_last_sync_age_seconds{connector}``: since the newest of their last
    syncs, read from PostgreSQL at each scrape (one index probe per publisher)."""

    DOORS = ("opensid", "ckan")

    def __init__(self, metrics: Metrics) -> None:
        self.sources = metrics.gauge("satudata_connector_sources",
                                     "Publishers that sent through a connector door",
                                     ("connector",))
        self.age = metrics.gauge("satudata_connector_last_sync_age_seconds",
                                 "Seconds since the newest sync through a connector door",
                                 ("connector",))
        metrics.gauge_source(self.collect)

    async def collect(self, runtime) -> None:
        try:
            async with asyncio.timeout(2.0):
                async with runtime.pool.acquire() as conn:
                    syncs = {door: await store.last_syncs(conn, door) for door in self.DOORS}
                    now = await store.now(conn)
        except Exception:  # noqa: BLE001 - database away: the gauges keep what they said
            return
        for door, rows in syncs.items():
            self.sources.labels(door).set(len(rows))
            newest = max((r["created_at"] for r in rows), default=None)
            self.age.labels(door).set((now - newest).total_seconds() if newest else -1)
