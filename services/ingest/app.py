"""The ingest service: create_app(settings) -> FastAPI."""

from __future__ import annotations

import functools

from fastapi import FastAPI

from services.ingest import opensid_routes
from services.ingest import ckan_routes, consumers, receipts, receipts_routes, routes, service, store
from services.ingest.metrics import ConnectorEvents, DoorSyncGauges, SubmissionGauges
from services.ingest.registry_client import RegistryClient
from services.ingest.settings import IngestSettings
from shared import outbox
from shared.metrics import ConsumerRef, Metrics, install_metrics
from shared.runtime import Runtime
from shared.signing import ServiceAuth
from shared.web import build_app


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings()

    async def lifespan(app: FastAPI):
        runtime = await Runtime(settings, "ingest", "ingest").start(relay=False)
        runtime.after_nats(lambda rt: outbox.relay(
            rt.pool, rt.js, rt.ns, rt.schema, claim=functools.partial(
                store.claim_in_turn, window=settings.max_inflight_chunks)))
        runtime.after_nats(consumers.consume_results)
        runtime.after_nats(consumers.consume_dead_letters)
        runtime.spawn(service.reconcile(runtime.pool, settings))
        runtime.spawn(receipts.remember_file_keys(runtime.pool, app.state.receipt_signer))
        registry = RegistryClient(settings.registry_url, timeout=settings.registry_timeout,
                                  cache_seconds=settings.dataset_cache_seconds,
                                  auth=ServiceAuth(settings.signer("ingest")))
        try:
            yield {"runtime": runtime, "registry": registry}
        finally:
            await registry.close()
            await runtime.stop()

    app = build_app(title="Satu Data ingest", service="ingest", settings=settings,
                    lifespan=lifespan)
    app.state.receipt_signer = receipts.load_signer(settings)
    app.include_router(receipts_routes.router)  # before routes.router
    app.include_router(routes.router)
    app.include_router(ckan_routes.router)
    app.include_router(opensid_routes.router)
    metrics = Metrics("ingest", consumers=[ConsumerRef("REGISTRY", consumers.DURABLE)])
    SubmissionGauges(metrics, settings.stall_after)
    app.state.connectors = ConnectorEvents(metrics)
    DoorSyncGauges(metrics)
    install_metrics(app, metrics)
    return app
