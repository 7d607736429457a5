"""The indexer: a durable pull consumer on the registry's events, and its freshness metrics."""

from __future__ import annotations

from typing import Sequence

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.search import indexing
from shared import bus
from shared.contracts import DatasetsChangedV1, Envelope, RecordsChangedV1, RegionsChangedV1
from shared.runtime import Runtime

DURABLE = "search-indexer"
SUBJECTS = [RecordsChangedV1.subject, DatasetsChangedV1.subject, RegionsChangedV1.subject]
FRESHNESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0,
                     1.5, 2.5, 5.0, 10.0, 30.0, 60.0)


class IndexMetrics:
    """One registry per app: tests run several search apps in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.freshness = Histogram(
            "search_freshness_seconds",
            "From a registry event (envelope occurred_at) until it is searchable (committed)",
            ["kind"], buckets=FRESHNESS_BUCKETS, registry=self.registry)
        self.lag = Gauge("search_index_lag_seconds",
                         "Freshness of the last indexed event: occurred_at until committed",
                         registry=self.registry)
        self.last_indexed = Gauge("search_last_indexed_timestamp_seconds",
                                  "Unix time this process last indexed an event",
                                  registry=self.registry)
        self.events = Counter("search_events_indexed", "Registry events indexed by this process",
                              ["kind"], registry=self.registry)


class Indexer:
    """Handlers for ``bus.run_consumer`` (a batch handler and its one-by-one fallback). The lag is observed as the indexing transaction ends
    (the commit follows at once); a failed transaction is redelivered and observed again."""

    def __init__(self, metrics: IndexMetrics) -> None:
        self.metrics = metrics

    async def handle(self, conn: asyncpg.Connection, envelope: Envelope) -> None:
        """One event (the fallback when its fetch's batch failed)."""
        self._observe([envelope], [await indexing.apply_envelope(conn, envelope)])

    async def handle_batch(self, conn: asyncpg.Connection, envelopes: Sequence[Envelope]
                           ) -> None:
        """Every event of one fetch, in one transaction."""
        self._observe(envelopes, await indexing.apply_envelopes(conn, envelopes))

    def _observe(self, envelopes: Sequence[Envelope], kinds: Sequence[str]) -> None:
        for envelope, kind in zip(envelopes, kinds):
            lag = indexing.event_lag_seconds(envelope)
            self.metrics.freshness.labels(kind).observe(lag)
            self.metrics.events.labels(kind).inc()
            self.metrics.lag.set(lag)
        self.metrics.last_indexed.set_to_current_time()


def indexer_task(indexer: Indexer, batch: int, linger: float):
    async def run(rt: Runtime) -> None:
        await bus.run_consumer(js=rt.js, ns=rt.ns, pool=rt.pool, durable=DURABLE,
                               stream="REGISTRY", subjects=SUBJECTS,
                               batch_handler=indexer.handle_batch, handler=indexer.handle,
                               batch=batch, linger=linger)
    return run
