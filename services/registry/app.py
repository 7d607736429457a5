"""The registry service: create_app(settings) -> FastAPI."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry import api, api_steward, consumers
from services.registry.settings import RegistrySettings
from services.registry.timeliness import api as timeliness_api, tasks as timeliness_tasks
from shared.metrics import ConsumerRef, Metrics, install_metrics
from shared.runtime import Runtime
from shared.web import build_app


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    async def lifespan(app: FastAPI):
        runtime = await Runtime(settings, "registry", "registry").start()
        runtime.after_nats(consumers.consume_submissions)
        timeliness_tasks.start(runtime, app.state.timeliness)  # reminder scan and delivery
        try:
            yield {"runtime": runtime}
        finally:
            await runtime.stop()

    app = build_app(title="Satu Data registry", service="registry", settings=settings,
                    lifespan=lifespan)
    app.include_router(api_steward.router)  # before api.router: /regions/aliases
    app.include_router(api.router)
    app.include_router(api.internal)
    timeliness_api.install(app)  # schedules, /v1/timeliness, reminders, templates
    install_metrics(app, Metrics("registry",
                                 consumers=[ConsumerRef("INGEST", consumers.DURABLE)]))
    return app
