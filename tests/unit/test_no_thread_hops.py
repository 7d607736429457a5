"""No request is handed to a worker thread by the framework: FastAPI runs a plain ``def``
endpoint or dependency in its thread pool (a hand-off and back per request, on two cores shared
with PostgreSQL). Every route of every service is ``async`` down to its last dependency; work
that does block says so with ``asyncio.to_thread`` where it happens."""

from __future__ import annotations

import inspect

import pytest
from fastapi.routing import APIRoute

from services.gateway.app import create_app as gateway_app
from services.gateway.settings import GatewaySettings
from services.ingest.app import create_app as ingest_app
from services.ingest.settings import IngestSettings
from services.registry.app import create_app as registry_app
from services.registry.settings import RegistrySettings
from services.search.app import create_app as search_app
from services.search.settings import SearchSettings

APPS = {"gateway": lambda: gateway_app(GatewaySettings()),
        "ingest": lambda: ingest_app(IngestSettings()),
        "registry": lambda: registry_app(RegistrySettings()),
        "search": lambda: search_app(SearchSettings())}


def _threaded(route: APIRoute) -> list[str]:
    found, todo = [], [route.dependant]
    while todo:
        dependant = todo.pop()
        call = dependant.call
        if call is not None and not (inspect.iscoroutinefunction(call)
                                     or inspect.isasyncgenfunction(call)
                                     or inspect.iscoroutinefunction(getattr(call, "__call__", None))):
            found.append(getattr(call, "__qualname__", repr(call)))
        todo += dependant.dependencies
    return found


@pytest.mark.parametrize("service", sorted(APPS))
def test_every_route_and_dependency_is_async(service):
    routes = [r for r in APPS[service]().routes if isinstance(r, APIRoute)]
    assert routes
    threaded = {f"{sorted(r.methods)} {r.path}": t for r in routes if (t := _threaded(r))}
    assert threaded == {}
