"""Dataset exports (``format=csv|xlsx``, or ``json`` without cursor and limit), streamed from
the registry, which builds every export in one place (services/registry/records/exports.py):
passed through chunk by chunk with their type, file name and length, so the gateway's memory
stays flat for a million rows."""

from __future__ import annotations


import httpx
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from services.gateway.registry_client import RegistryReads
from services.gateway.upstream import PassThrough

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KEPT_HEADERS = ("content-type", "content-disposition", "content-length")


def is_export(params) -> bool:
    fmt = params.get("format")
    return fmt in ("csv", "xlsx") or (
        fmt == "json" and "cursor" not in params and "limit" not in params)


async def export(registry: RegistryReads, slug: str, params) -> StreamingResponse:
    settings = registry.upstreams.settings
    timeout = httpx.Timeout(settings.export_timeout, connect=settings.connect_timeout)
    response = await registry.records_file(slug, list(params.multi_items()), timeout)
    if response.status_code != 200:
        body = await response.aread()
        await response.aclose()
        raise PassThrough(response.status_code, body, response.headers.get("content-type"))
    return StreamingResponse(
        response.aiter_raw(), media_type=response.headers.get("content-type"),
        headers={k: v for k, v in response.headers.items()
                 if k in KEPT_HEADERS and k != "content-type"},
        background=BackgroundTask(response.aclose))
