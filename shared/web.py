"""The parts every FastAPI app shares: request ids, the error shape, health routes, and the
dependencies that own a request's connection, transaction and caller.

- ``ReadConn``: a pooled connection for a read route.
- ``WriteConn``: a connection inside a transaction, committed after the handler returns and
  before the response is sent (``scope="function"``), rolled back if it raises. No handler
  opens a transaction itself.
- ``DryRunConn``: a connection inside a transaction that is always rolled back.
- ``Caller`` / ``MaybeCaller`` / ``Steward``: the verified principal (signed calls carry it),
  required, optional, or required to be walidata/admin. No handler checks a role in its body.
- Unknown query parameters are refused (422 ``unknown_parameter``, naming the ones a route
  takes): a misspelt filter (``?periode=2024``) never silently answers everything. A route
  whose other parameters filter a dataset's dimensions says so with ``DIMENSION_FILTERS`` and
  refuses a name that is not a dimension itself (``unknown_parameter``).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator, Callable

import asyncpg
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute

from shared.auth import Principal, principal_from_headers, require_principal, require_steward
from shared.errors import install_error_handlers, unknown_parameter
from shared.health import health_router
from shared.logging import RequestIdMiddleware, configure_logging
from shared.settings import ServiceSettings
from shared.signing import SignatureMiddleware


# ``openapi_extra`` of a route whose other query parameters are dimension filters
DIMENSION_FILTERS = {"x-dimension-filters": True}


async def refuse_unknown_query(request: Request) -> None:
    """The app-wide dependency behind the rule above (the gateway's proxy routes are left to
    the services they forward to)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    if (route.openapi_extra or {}).get("x-dimension-filters"):
        return
    accepted = _query_names(route)
    unknown = [k for k in dict.fromkeys(request.query_params) if k not in accepted]
    if unknown:
        raise unknown_parameter(unknown, list(accepted))


def _query_names(route: APIRoute) -> frozenset[str]:
    names = getattr(route, "_satudata_query_names", None)
    if names is None:
        found, todo = set(), [route.dependant]
        while todo:  # the route's own parameters and its dependencies'
            dependant = todo.pop()
            found |= {p.alias for p in dependant.query_params}
            todo += dependant.dependencies
        names = frozenset(found)
        route._satudata_query_names = names  # computed once per route
    return names


def build_app(*, title: str, service: str, settings: ServiceSettings,
              lifespan: Callable[[FastAPI], AsyncIterator[dict]], signed: bool = True,
              strict_query: bool = True, **kwargs) -> FastAPI:
    """``signed``: every route but health and metrics needs a service signature (all services
    but the gateway, which is the public door and signs what it forwards). ``strict_query``:
    unknown query parameters are refused (the gateway forwards them to the service that
    decides)."""
    configure_logging(service, settings.log_level)
    if strict_query:
        kwargs["dependencies"] = [*kwargs.get("dependencies", []),
                                  Depends(refuse_unknown_query)]
    # no redirect of "/x/" to "/x": its Location would name this service's own address
    app = FastAPI(title=title, lifespan=asynccontextmanager(lifespan), redirect_slashes=False,
                  **kwargs)
    app.state.settings = settings
    install_error_handlers(app)
    if signed:
        app.add_middleware(SignatureMiddleware, keyring=settings.keyring(),
                           max_age=settings.signature_max_age)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router())
    return app


async def get_pool(request: Request) -> asyncpg.Pool:
    return request.state.runtime.pool


async def read_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.state.runtime.pool.acquire() as conn:
        yield conn


async def write_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.state.runtime.pool.acquire() as conn, conn.transaction():
        yield conn


async def dry_run_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """A transaction that is always rolled back: a dry run changes nothing, temp tables
    included."""
    async with request.state.runtime.pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            yield conn
        finally:
            await tx.rollback()


async def caller(request: Request) -> Principal:
    return require_principal(request.headers)


async def maybe_caller(request: Request) -> Principal | None:
    return principal_from_headers(request.headers)


async def steward(request: Request) -> Principal:
    return require_steward(request.headers)


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
ReadConn = Annotated[asyncpg.Connection, Depends(read_conn, scope="function")]
WriteConn = Annotated[asyncpg.Connection, Depends(write_conn, scope="function")]
DryRunConn = Annotated[asyncpg.Connection, Depends(dry_run_conn, scope="function")]
Caller = Annotated[Principal, Depends(caller)]
MaybeCaller = Annotated[Principal | None, Depends(maybe_caller)]
Steward = Annotated[Principal, Depends(steward)]
