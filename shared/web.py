"""The parts every FastAPI app shares: request ids, the error shape, health routes."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator, Callable

import asyncpg
from fastapi import Depends, FastAPI, Request

from shared.errors import install_error_handlers
from shared.health import health_router
from shared.logging import RequestIdMiddleware, configure_logging
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.signing import SignatureMiddleware


def build_app(*, title: str, service: str, settings: ServiceSettings,
              lifespan: Callable[[FastAPI], AsyncIterator[dict]], signed: bool = True,
              **kwargs) -> FastAPI:
    """``signed``: every route but health and metrics needs a service signature (all services
    but the gateway, which is the public door and signs what it forwards)."""
    configure_logging(service, settings.log_level)
    app = FastAPI(title=title, lifespan=asynccontextmanager(lifespan), **kwargs)
    app.state.settings = settings
    install_error_handlers(app)
    if signed:
        app.add_middleware(SignatureMiddleware, secrets=settings.service_secrets,
                           max_age=settings.signature_max_age)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router())
    return app


def get_runtime(request: Request) -> Runtime:
    return request.state.runtime


def get_pool(request: Request) -> asyncpg.Pool:
    return request.state.runtime.pool


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
