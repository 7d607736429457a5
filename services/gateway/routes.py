"""Gateway routes: the public API proxy, exports, live events, CKAN actions, docs, portal."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from starlette.routing import Match, Route
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse

from services.gateway import exports, proxy
from services.gateway import dcat, pages
from services.gateway.ckan_actions import ACTIONS, PREFIXES
from services.gateway.ckan_envelope import exception_envelope
from shared.ckan import envelope
from services.gateway.keys import raw_key
from services.gateway.manifest import route_service
from services.gateway.middleware import client_address
from services.gateway.container import GatewayDep
from shared.errors import AppError, BadRequest, MethodNotAllowed, NotFound
from shared.validation import INT64_MAX

PORTAL = Path(__file__).parent / "static" / "portal"
DOCS = Path(__file__).parent / "static" / "docs"
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]

router = APIRouter()
v1_router = APIRouter()  # /v1 routes the gateway answers itself, matched before the proxy
log = logging.getLogger("satudata.gateway.events")


@router.get("/openapi.json", include_in_schema=False)
async def openapi(gw: GatewayDep):
    return JSONResponse(await gw.openapi.document())


@router.get("/docs", include_in_schema=False)
async def docs():
    """Swagger UI 5 (vendored from swagger-ui-dist, see static/docs/README.md); no CDN, no
    inline script."""
    return FileResponse(DOCS / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/catalog.jsonld", include_in_schema=False)
@router.get("/dcat.jsonld", include_in_schema=False)
async def dcat_catalog(request: Request, gw: GatewayDep):
    """DCAT (DCAT-AP) catalogue in JSON-LD, for national portals to harvest."""
    base = gw.base_url(request)
    packages = await gw.ckan.packages(base)
    regions = await gw.ckan.regions()
    return JSONResponse(dcat.catalog(base, packages, regions), media_type="application/ld+json",
                        headers={"Cache-Control": f"public, max-age={gw.settings.cache_max_age}"})


@router.get("/.well-known/satudata-keys.json", include_in_schema=False)
async def receipt_keys(request: Request, gw: GatewayDep):
    """The public keys receipts are signed with (ingest signs them)."""
    return await proxy.forward(request, gw.upstreams, "ingest", None,
                               path="/.well-known/satudata-keys.json", max_age=300)


@router.get("/", include_in_schema=False)
@router.get("/wilayah", include_in_schema=False)
@router.get("/kelengkapan", include_in_schema=False)
@router.get("/kirim", include_in_schema=False)
@router.get("/permohonan", include_in_schema=False)
@router.get("/dataset/{slug}", include_in_schema=False)
@router.get("/wilayah/{code}", include_in_schema=False)
async def portal(request: Request, gw: GatewayDep):
    """The portal page for every real URL (old #/ links still work: the script maps them),
    with this page's title, description and canonical link written in on the server."""
    path = request.url.path.rstrip("/") or "/"
    status, title, description = await pages.meta(gw.registry, path)
    body = pages.render(title, description, gw.base_url(request) + request.url.path)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-cache"})


@router.get("/verifikasi", include_in_schema=False)
async def verification_page():
    """The walidata's verification queue; the data comes from /v1/verification."""
    return FileResponse(pages.VERIFICATION_PAGE, headers={"Cache-Control": "no-cache"})


@router.get("/sitemap.xml", include_in_schema=False)
async def sitemap(request: Request, gw: GatewayDep):
    return Response(await pages.sitemap(gw.registry, gw.base_url(request)),
                    media_type="application/xml",
                    headers={"Cache-Control": f"public, max-age={gw.settings.cache_max_age}"})


@v1_router.get("/v1/events", include_in_schema=False)
async def events(request: Request, gw: GatewayDep,
                 since: Annotated[int | None, Query(ge=0, le=INT64_MAX)] = None,
                 dataset: str | None = None,
                 last_event_id: str | None = Header(None, alias="Last-Event-ID")):
    principal = await gw.authorize("GET", request.url.path, request.headers)
    if last_event_id:
        value = last_event_id.strip()
        if not value.isdigit() or len(value) > 18:
            raise BadRequest("Last-Event-ID tidak valid.", code="invalid_last_event_id")
        since = int(value)
    if since is None:  # fixed before the headers go out: a change made once the client sees
        since = await gw.hub.start_seq()  # the stream open is never skipped
    address = client_address(request.scope, request.headers,
                             gw.settings.forwarding_proxies())
    slot = gw.hub.admit(principal.key_id if principal else None, address)
    slot.__enter__()  # 429 here, before the stream starts; given back when it ends

    async def body():
        started, sent = time.monotonic(), 0
        try:
            async for chunk in gw.hub.stream(since, dataset, gw.settings.events_keepalive):
                sent += chunk.startswith("id:")
                yield chunk
        finally:
            slot.__exit__(None, None, None)
            log.info("event stream closed after %.0f s, %d events sent",
                     time.monotonic() - started, sent)

    return StreamingResponse(body(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@v1_router.get("/v1/datasets/{slug}/records", include_in_schema=False)
async def records(slug: str, request: Request, gw: GatewayDep):
    await gw.authorize("GET", request.url.path, request.headers)
    if exports.is_export(request.query_params):
        return await exports.export(gw.registry, slug, request.query_params)
    return await _forward(request, gw)


async def _ckan(action: str, request: Request, gw: GatewayDep) -> Response:
    base = gw.base_url(request)
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        try:
            body = await request.json() if await request.body() else {}
        except ValueError:
            body = dict(await request.form())
        if isinstance(body, dict):
            params.update(body)
    try:
        if raw_key(request.headers):  # a key is optional on reads, but a given key must be valid
            await gw.authorize("GET", request.url.path, request.headers)
        result = await gw.ckan.call(action, base, params)
    except AppError as exc:
        return JSONResponse(exception_envelope(base, action, exc), status_code=exc.status_code,
                            headers=exc.headers)
    return JSONResponse(envelope(base, action, result))


def _ckan_route(name: str, service: str):
    """A CKAN action as the table says: answered here, or a write forwarded to its service
    (always under /api/3/action, where the manifest routes it; POST only)."""
    if service == "gateway":
        async def read(request: Request, gw: GatewayDep):
            return await _ckan(name, request, gw)
        return read

    async def write(request: Request, gw: GatewayDep):
        if request.method != "POST":
            raise MethodNotAllowed(f"Aksi '{name}' hanya menerima POST.",
                                   headers={"Allow": "POST"})
        return await _forward(request, gw, path=f"/api/3/action/{name}")
    return write


for _prefix in PREFIXES:
    for _name, _action in ACTIONS.items():
        router.add_api_route(f"{_prefix}/{_name}", _ckan_route(_name, _action.service),
                             methods=["GET", "POST"], include_in_schema=False)


class _PublicApi:
    """The proxy, the hot path, as a raw ASGI endpoint: no request/response wrapper and no
    dependency solving (Starlette calls a non-function endpoint as an ASGI app); errors still
    reach the app's exception handlers."""

    async def __call__(self, scope, receive, send) -> None:
        scope["route"] = proxy_route  # the metrics label, without matching every route again
        request = Request(scope, receive)
        response = await _forward(request, scope["state"]["gateway"])
        await response(scope, receive, send)


class _ProxyRoute(Route):
    """``/v1/{rest}``, the first route tried, for every request but those the gateway answers
    itself (``v1_router``, path and method: a HEAD of its GET routes is still proxied, as
    before): two regexes, where FastAPI's included-router matching ran first on every proxied
    request."""

    def matches(self, scope):
        path, method = scope.get("path", ""), scope.get("method")
        if any(method in route.methods and route.path_regex.match(path)
               for route in v1_router.routes):
            return Match.NONE, {}
        return super().matches(scope)


proxy_route = _ProxyRoute("/v1/{rest:path}", _PublicApi(),
                          methods=["GET", "HEAD", *WRITE_METHODS], include_in_schema=False)


@router.api_route("/api/3/action/{action}", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/api/action/{action}", methods=["GET", "POST"], include_in_schema=False)
async def ckan_unknown(action: str, request: Request, gw: GatewayDep):
    """Any other action: CKAN's "Action name not known"."""
    return await _ckan(action, request, gw)


async def _forward(request: Request, gw: GatewayDep, path: str | None = None) -> Response:
    # the path as it came (PathGuardMiddleware refused dot segments and encoded slashes), so
    # the service serves exactly the route checked here
    path = path or request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    service = route_service(path)
    if service is None:
        raise NotFound("Alamat ini tidak ada.", code="route_not_found")
    principal = await gw.authorize(request.method, path, request.headers)
    settings = gw.settings
    if principal is not None:  # where the call came from, for the audit log
        principal = principal.model_copy(update={"client_addr": client_address(
            request.scope, request.headers, settings.forwarding_proxies())})
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return await proxy.forward(request, gw.upstreams, service, principal, path=path,
                                   max_age=settings.cache_max_age)
    async with gw.upload_slot(principal, service):
        body = await proxy.read_body(request, timeout=settings.body_timeout,
                                     min_rate=settings.body_min_rate)
        return await proxy.forward(request, gw.upstreams, service, principal, path=path,
                                   max_age=settings.cache_max_age, body=body)
