"""The registry service: create_app(settings) -> FastAPI."""

from __future__ import annotations

from fastapi import FastAPI

from services.registry import consumers
from services.registry.access import routes as access
from services.registry.audit import routes as audit
from services.registry.boundaries import routes as boundaries
from services.registry.classifications import routes as classifications
from services.registry.conflicts import routes as conflicts
from services.registry.datarequests import routes as datarequests
from services.registry.epss import routes as epss
from services.registry.feedback import routes as feedback
from services.registry.privacy import routes as privacy
from services.registry.statistical_metadata import routes as statistical_metadata
from services.registry.publishing import routes as publishing
from services.registry.datasets import routes as datasets
from services.registry.records import routes as records
from services.registry.regions import routes as regions
from services.registry.statistics import routes as statistics
from services.registry.verification import routes as verification
from services.registry.settings import RegistrySettings
from services.registry.sipd import routes as sipd, service as sipd_service
from services.registry.timeliness import routes as timeliness, tasks as timeliness_tasks
from services.registry.timeliness.settings import TimelinessSettings
from shared.metrics import ConsumerRef, Metrics, install_metrics
from shared.runtime import Runtime, every
from shared.web import build_app


# One router per topic; each topic keeps its routes, use cases and SQL side by side
# (services/registry/<topic>/{routes,service,store}.py). A new topic adds one line here.
ROUTERS = [
    # what changes the published values; first: its /regions/misplaced before /regions/{code}
    publishing.router, publishing.internal,
    boundaries.router,  # /regions/boundaries, before /regions/{code}
    regions.router, regions.internal,
    datasets.router,
    records.router, records.internal,
    conflicts.router,
    access.router, access.internal,
    statistics.router,
    audit.router,
    verification.router,  # rules, policy, the walidata's queue
    timeliness.router,
    privacy.router,
    feedback.router,  # citizens say a figure is wrong; the walidata answers
    datarequests.router,  # citizens ask for data not yet published (UU 14/2008)
    sipd.router,  # values pushed to SIPD e-Walidata (Kemendagri)
    epss.router,  # the regency's EPSS evidence from its own records
    statistical_metadata.router,  # BPS MS-Kegiatan, MS-Variabel, MS-Indikator
    classifications.router,  # KBLI, KBJI...: the codes a dimension may declare
]


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    reminder_settings = TimelinessSettings()  # the timeliness topic's, same REGISTRY_ prefix

    async def lifespan(app: FastAPI):
        runtime = await Runtime(settings, "registry", "registry").start()
        runtime.after_nats(consumers.consume_submissions)
        timeliness_tasks.start(runtime, reminder_settings)  # reminder scan and delivery
        sipd_settings = sipd_service.SipdSettings()
        if sipd_settings.sipd_url and sipd_settings.sipd_interval > 0:
            runtime.spawn(every(
                sipd_settings.sipd_interval,
                lambda: sipd_service.run_once(runtime.pool, sipd_settings), "SIPD push"))
        try:
            yield {"runtime": runtime, "timeliness": reminder_settings}
        finally:
            await runtime.stop()

    app = build_app(title="Satu Data registry", service="registry", settings=settings,
                    lifespan=lifespan)
    for router in ROUTERS:
        app.include_router(router)
    metrics = Metrics("registry", consumers=[ConsumerRef("INGEST", consumers.DURABLE)])
    sipd_service.register_metrics(metrics)
    install_metrics(app, metrics)
    return app
