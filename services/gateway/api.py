"""Gateway routes: the public API proxy, exports, live events, CKAN actions, docs, portal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from services.gateway import exports, proxy
from services.gateway.ckan import error_envelope, envelope
from services.gateway.keys import raw_key
from services.gateway.service import GatewayDep
from shared.errors import AppError, BadRequest, NotFound

PORTAL = Path(__file__).parent / "static" / "portal"
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
async def openapi(gw: GatewayDep):
    return JSONResponse(await gw.openapi.document())


@router.get("/docs", include_in_schema=False)
async def docs():
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Satu Data Kutai Timur - API",
                               swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs-assets/swagger-ui.css",
                               swagger_favicon_url="/docs-assets/favicon-32x32.png")


@router.get("/", include_in_schema=False)
async def portal():
    return FileResponse(PORTAL / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/v1/events", include_in_schema=False)
async def events(request: Request, gw: GatewayDep, since: int | None = None,
                 dataset: str | None = None,
                 last_event_id: str | None = Header(None, alias="Last-Event-ID")):
    await gw.authorize("GET", request.url.path, request.headers)
    if last_event_id:
        if not last_event_id.strip().isdigit():
            raise BadRequest("Last-Event-ID tidak valid.", code="invalid_last_event_id")
        since = int(last_event_id)
    if since is None:  # fixed before the headers go out: a change made once the client sees
        since = await gw.hub.head()  # the stream open is never skipped
    return StreamingResponse(
        gw.hub.stream(since, dataset, gw.settings.events_keepalive),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/v1/datasets/{slug}/records", include_in_schema=False)
async def records(slug: str, request: Request, gw: GatewayDep):
    await gw.authorize("GET", request.url.path, request.headers)
    params = request.query_params
    fmt = params.get("format")
    if fmt == "csv":
        return await exports.csv_export(gw.upstreams, slug, params)
    if fmt == "xlsx":
        return await exports.xlsx_export(gw.upstreams, slug, params)
    if fmt == "json" and "cursor" not in params and "limit" not in params:
        return await exports.json_export(gw.upstreams, slug, params)
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
        return JSONResponse(error_envelope(base, action, exc), status_code=exc.status_code)
    return JSONResponse(envelope(base, action, result))


for _prefix in ("/api/3/action", "/api/action"):
    for _name in ("package_list", "package_show", "package_search", "organization_list",
                  "datastore_search"):
        async def _action(request: Request, gw: GatewayDep, _name=_name):
            return await _ckan(_name, request, gw)
        router.add_api_route(f"{_prefix}/{_name}", _action, methods=["GET", "POST"],
                             include_in_schema=False)


@router.api_route("/v1/{rest:path}", methods=["GET", "HEAD", *WRITE_METHODS],
                  include_in_schema=False)
async def public_api(request: Request):
    return await _forward(request, request.state.gateway)  # hot path: no dependency solving


@router.api_route("/api/3/action/{action}", methods=["POST"], include_in_schema=False)
@router.api_route("/api/action/{action}", methods=["POST"], include_in_schema=False)
async def ckan_write(action: str, request: Request, gw: GatewayDep):
    """CKAN writes go to ingest, always under /api/3/action (ckanapi posts to /api/action)."""
    if action not in ("datastore_create", "datastore_upsert"):
        raise NotFound(f"Aksi '{action}' tidak tersedia.", code="unknown_action")
    return await _forward(request, gw, path=f"/api/3/action/{action}")


async def _forward(request: Request, gw: GatewayDep, path: str | None = None) -> Response:
    path = path or request.url.path
    service = proxy.route_service(path)
    if service is None:
        raise NotFound("Alamat ini tidak ada.", code="route_not_found")
    principal = await gw.authorize(request.method, path, request.headers)
    return await proxy.forward(request, gw.upstreams, service, principal, path=path,
                               max_age=gw.settings.cache_max_age)
