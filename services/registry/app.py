"""The registry service: create_app(settings) -> FastAPI."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry import api, api_privacy, api_steward, consumers
from services.registry.settings import RegistrySettings
from shared.metrics import ConsumerRef, Metrics, install_metrics
from shared.runtime import Runtime
from shared.web import build_app


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    async def lifespan(app: FastAPI):
        runtime = await Runtime(settings, "registry", "registry").start()
        runtime.after_nats(consumers.consume_submissions)
        try:
            yield {"runtime": runtime}
        finally:
            await runtime.stop()

    app = build_app(title="Satu Data registry", service="registry", settings=settings,
                    lifespan=lifespan)
    app.include_router(api_steward.router)  # before api.router: /regions/aliases
    app.include_router(api_privacy.router)  # issue 19: /v1/datasets/{slug}/privacy
    app.include_router(api.router)
    app.include_router(api.internal)
    install_metrics(app, Metrics("registry",
                                 consumers=[ConsumerRef("INGEST", consumers.DURABLE)]))
    return app
