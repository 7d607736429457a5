"""The gateway: create_app(settings) -> FastAPI.

No database of its own: the lifespan opens pooled httpx clients to the services, the key
cache, and a NATS subscription that wakes live-update clients. ``/readyz`` reports ready when
every service's ``/healthz`` answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES

from services.gateway import routes, timeliness_routes
from services.gateway.ckan_envelope import CkanEnvelopeMiddleware
from services.gateway.exports import XLSX_TYPE
from services.gateway.manifest import ROUTES
from services.gateway.middleware import (BodyLimitMiddleware, LeanGZipMiddleware,
                                         PathGuardMiddleware,
                                         RateLimitMiddleware, SecurityHeadersMiddleware)
from services.gateway.container import Gateway
from services.gateway.settings import GatewaySettings
from services.gateway.upstream import PassThrough
from shared.logging import RequestIdMiddleware
from shared.metrics import Metrics, install_metrics
from shared.web import build_app


def route_segments() -> frozenset[str]:
    """First segments of the route table's paths (``datasets``, ``search``...): the only ones a
    metric label of the catch-all may carry, whatever paths clients send."""
    return frozenset(r.pattern.strip("/").split("/")[1] for r in ROUTES
                     if r.pattern.count("/") >= 2)


# the gateway serves the merged document and the docs page itself (routes.py)
NO_DOCS = {"openapi_url": None, "docs_url": None, "redoc_url": None}


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    async def lifespan(app: FastAPI):
        gateway = Gateway.open(settings)
        listener = asyncio.create_task(gateway.hub.listen_nats(settings.nats_url,
                                                               settings.nats_namespace))
        try:
            yield {"gateway": gateway, "ready_checks": gateway.ready_checks()}
        finally:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener
            await gateway.close()

    app = build_app(title="Satu Data gateway", service="gateway", settings=settings,
                    lifespan=lifespan, signed=False, strict_query=False, **NO_DOCS)

    @app.exception_handler(PassThrough)
    async def _passthrough(_, exc: PassThrough):
        return Response(exc.body, status_code=exc.status_code, media_type=exc.content_type)

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per upstream call is noise
    # the proxy first (it steps aside for the gateway's own /v1 routes), then portal, CKAN
    app.router.routes.insert(0, routes.proxy_route)
    app.include_router(routes.v1_router)
    app.include_router(timeliness_routes.router)  # /ketepatan, before the portal's catch-alls
    app.include_router(routes.router)
    app.mount("/docs-assets", StaticFiles(directory=routes.DOCS), name="docs-assets")
    app.mount("/portal", StaticFiles(directory=routes.PORTAL), name="portal")
    # Added last = outermost: the body limit and rate limit answer before any work is done.
    app.add_middleware(LeanGZipMiddleware, minimum_size=settings.gzip_min_size, compresslevel=6,
                       exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, XLSX_TYPE))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type",
                                          "X-Request-ID", "Idempotency-Key", "Last-Event-ID",
                                          "If-None-Match"],
                           expose_headers=["ETag", "X-Request-ID", "RateLimit-Limit",
                                           "RateLimit-Remaining", "RateLimit-Reset",
                                           "Retry-After"])
    app.add_middleware(RateLimitMiddleware, per_key=settings.rate_limit_key,
                       per_address=settings.rate_limit_address,
                       strategy=settings.rate_limit_strategy,
                       trusted_proxies=settings.forwarding_proxies(),
                       auth_failures=settings.rate_limit_auth_failures,
                       public_writes=settings.rate_limit_public_writes,
                       redis_url=settings.redis_url)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CkanEnvelopeMiddleware, public_url=settings.public_base())  # /api/ errors, 413/429 included, in CKAN's shape
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(PathGuardMiddleware)
    # build_app added the request-id middleware first (innermost); move it outermost so 413
    # and 429 answers carry X-Request-ID and every log line of a request has its id.
    rid = [m for m in app.user_middleware if m.cls is RequestIdMiddleware]
    app.user_middleware[:] = rid + [m for m in app.user_middleware if m not in rid]
    app.state.route_segments = route_segments()  # the catch-all's only metric labels
    install_metrics(app, Metrics("gateway", backend=False))  # its own, never a service's (see shared/metrics)
    return app
