"""Gateway test helpers: apps served by real uvicorn servers on free ports, in the test loop,
and a small stand-in for the services (for proxy behaviour the real services cannot be made to
show on demand: slow answers, crashes, flaky 503s)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import AsyncIterator

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from shared.auth import Principal
from shared.infra import free_port


@contextlib.asynccontextmanager
async def serve(app, port: int | None = None) -> AsyncIterator[str]:
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                            lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


ECHO_ROUTES = [("/v1/echo/{rest:path}", ["GET", "POST", "PATCH"]),
               ("/v1/aggregates", ["GET", "POST"]), ("/v1/conflicts", ["GET", "POST"]),
               ("/v1/datasets", ["GET", "POST"]), ("/v1/submissions", ["GET", "POST"]),
               ("/api/3/action/datastore_upsert", ["POST"])]
BIG_CSV_CHUNKS = 200   # x 49 KB = about 10 MB
BIG_JSON_PAGES = 80    # x 1,000 records (about 13 MB of JSON)

BIG_PAGE = ('{"items": [' + ",".join(json.dumps(
    {"id": str(i), "region_code": "64.08.04.2001", "period": "2024",
     "dimensions": {"jenis_kelamin": "L"}, "values": {"jumlah": i}, "version": 1,
     "updated_at": "2024-01-01T00:00:00Z"}) for i in range(1000))).encode()

PRINCIPALS = {
    "publisher-key-1": Principal(key_id="k1", publisher_id="desa-1", publisher_name="Desa Satu",
                                 role="publisher", region_scope="64.08.04.2001",
                                 datasets=["jumlah-penduduk"]),
    "walidata-key-1": Principal(key_id="k2", publisher_id="walidata",
                                publisher_name="Walidata", role="walidata",
                                region_scope="64.08", datasets=["*"]),
}


class StandIn:
    """One app playing registry, ingest and search; records what reached it."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.seen: list[dict] = []
        self.revoked: set[str] = set()
        self.flaky_left = 0
        self.changes: list[dict] = []  # the change feed the stand-in serves
        self.app = self._build()

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def _build(self) -> FastAPI:
        app = FastAPI(title="stand-in")

        @app.get("/healthz")
        async def healthz():
            return {"status": "ok"}

        @app.post("/internal/v1/auth/resolve")
        async def resolve(body: dict):
            self._count("resolve")
            key = body["key"]
            if key in self.revoked:
                return JSONResponse({"error": {"code": "revoked_api_key",
                                               "message": "Kunci API ini sudah dicabut.",
                                               "details": []}}, status_code=401)
            if key not in PRINCIPALS:
                return JSONResponse({"error": {"code": "invalid_api_key",
                                               "message": "Kunci API tidak dikenal.",
                                               "details": []}}, status_code=401)
            return PRINCIPALS[key].model_dump()

        @app.get("/internal/v1/secret")
        async def secret():
            return {"secret": True}

        async def echo(request: Request):
            self._count(f"{request.method} {request.url.path}")
            body = await request.body()
            seen = {"method": request.method, "path": request.url.path,
                    "query": request.url.query, "headers": dict(request.headers),
                    "body_size": len(body)}
            self.seen.append(seen)
            return {"items": [], "seen": {k: v for k, v in seen.items() if k != "headers"},
                    "principal": request.headers.get("x-satudata-principal"),
                    "request_id": request.headers.get("x-request-id")}

        for path, methods in ECHO_ROUTES:
            app.add_api_route(path, echo, methods=methods, include_in_schema=False)

        @app.get("/v1/regions/slow")
        async def slow():
            await asyncio.sleep(3)
            return {"late": True}

        @app.get("/v1/publishers")
        async def flaky():
            self._count("GET /v1/publishers")
            if self.flaky_left > 0:
                self.flaky_left -= 1
                return JSONResponse({"error": {"code": "x", "message": "x", "details": []}},
                                    status_code=503)
            return {"items": [{"id": "walidata"}]}

        @app.post("/v1/submissions/flaky")
        async def flaky_post():
            self._count("POST /v1/submissions/flaky")
            return JSONResponse({"error": {"code": "x", "message": "x", "details": []}},
                                status_code=503)

        @app.get("/v1/records/missing")
        async def missing():
            return JSONResponse({"error": {"code": "record_not_found",
                                           "message": "Rekaman tidak ada.",
                                           "details": [{"id": "missing"}]}}, status_code=404)

        @app.get("/v1/records/boom")
        async def boom():
            return PlainTextResponse("Traceback (most recent call last):\n  secret stuff",
                                     status_code=500)

        @app.get("/v1/datasets/big/records")
        async def big(format: str | None = None, cursor: int = 0, limit: int = 1000):
            """The registry's exports: CSV, or every page as one JSON document (one
            serialised page reused: the stand-in itself allocates almost nothing)."""
            if format == "csv":
                async def chunks():
                    row = b"64.08.04.2001,2024,L,1234,1,2024-01-01T00:00:00Z\n" * 1000
                    for _ in range(BIG_CSV_CHUNKS):
                        yield row
                return StreamingResponse(chunks(), media_type="text/csv")
            if format == "json":
                async def document():
                    yield b'{"items": ['
                    items = BIG_PAGE[len(b'{"items": ['):]
                    for n in range(BIG_JSON_PAGES):
                        yield (b"," if n else b"") + items
                    yield b'], "next_cursor": null}'
                return StreamingResponse(document(), media_type="application/json")
            more = cursor + 1 < BIG_JSON_PAGES
            tail = json.dumps({"next_cursor": str(cursor + 1) if more else None})
            return Response(BIG_PAGE + b"]," + tail[1:].encode(),
                            media_type="application/json")

        @app.get("/v1/changes")
        async def changes(since: int = 0, limit: int = 500):
            self._count("GET /v1/changes")
            items = [c for c in self.changes if c["seq"] > since][:limit]
            return {"items": items, "next": items[-1]["seq"] if items else since}

        @app.get("/v1/search")
        async def search(q: str = ""):
            return {"items": [{"kind": "dataset", "title": q}], "total": 1}

        return app


@pytest.fixture
async def standin():
    stand = StandIn()
    async with serve(stand.app) as url:
        stand.url = url
        yield stand


def gateway_settings(upstream: str, nats_url: str, namespace: str, **overrides):
    # 2 s: the stand-in answers in milliseconds, but a loaded machine once took 0.68 s (a 504
    # under the old 0.5 s); /v1/regions/slow sleeps 3 s, so the timeout test still gets its 504
    values = dict(registry_url=upstream, ingest_url=upstream, search_url=upstream,
                  nats_url=nats_url, nats_namespace=namespace, upstream_timeout=2.0,
                  key_cache_ttl=0.3, events_poll_interval=0.2)
    values.update(overrides)
    return GatewaySettings(**values)


@pytest.fixture
async def gateway(standin, nats_url, nats_namespace):
    """A gateway in front of the stand-in, served by uvicorn; yields its base URL."""
    settings = gateway_settings(standin.url, nats_url, nats_namespace)
    async with serve(create_app(settings)) as url:
        yield url


@pytest.fixture
def stack_options() -> dict:
    """``stack`` (tests/integration/conftest.py) for the gateway's tests: the registry with
    its sample values behind the gateway, no search service."""
    return {"sample_values": True, "search": False}
