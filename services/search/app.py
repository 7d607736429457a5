"""The search service: create_app(settings) -> FastAPI."""

from __future__ import annotations

from fastapi import FastAPI

from services.search import consumers, routes
from services.search.cache import AnswerCache
from services.search.settings import SearchSettings
from shared.metrics import ConsumerRef, Metrics, install_metrics
from shared.runtime import Runtime
from shared.web import build_app


def create_app(settings: SearchSettings | None = None) -> FastAPI:
    settings = settings or SearchSettings()
    metrics = consumers.IndexMetrics()

    async def lifespan(app: FastAPI):
        # (search sets only transaction-scoped state: no session reset per answer)
        runtime = await Runtime(settings, "search", "search").start(relay=False,
                                                                    session_state=False)
        indexer = consumers.Indexer(metrics)
        for _ in range(settings.consumer_concurrency):
            runtime.after_nats(consumers.indexer_task(indexer, settings.consumer_batch,
                                                         settings.consumer_linger_s))
        try:
            yield {"runtime": runtime}
        finally:
            await runtime.stop()

    app = build_app(title="Satu Data search", service="search", settings=settings,
                    lifespan=lifespan)
    app.state.metrics = metrics
    app.state.answer_cache = AnswerCache(settings.answer_cache_size)
    app.include_router(routes.router)
    # index freshness (search_freshness_seconds, search_index_lag_seconds) on the same page
    install_metrics(app, Metrics("search", registry=metrics.registry, outbox=False,
                                 consumers=[ConsumerRef("REGISTRY", consumers.DURABLE)]))
    return app
