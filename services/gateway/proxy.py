"""Forwarding one public request to its service, and shaping what comes back.

Outgoing headers are an allow-list (so a client's ``X-Satudata-Principal`` never passes; the
gateway sets it from the resolved key). JSON answers to GETs carry an ``ETag`` and
``Cache-Control`` and answer ``304`` to a matching ``If-None-Match``; other bodies stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

import httpx

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from services.gateway.upstream import Upstreams
from shared.auth import PRINCIPAL_HEADER, Principal
from shared.errors import AppError

FORWARD_REQUEST_HEADERS = ("accept", "accept-language", "content-type", "content-encoding",
                           "idempotency-key", "user-agent", "content-disposition", "x-filename")
PASS_RESPONSE_HEADERS = ("content-type", "content-disposition", "location", "etag",
                         "last-modified", "retry-after", "x-total-count")
MAX_BUFFERED = 8 * 1024 * 1024  # larger JSON is streamed rather than hashed for an ETag


def route_service(path: str) -> str | None:
    """Which service serves a public path (None: not a public route)."""
    if path.startswith("/internal") or not path.startswith(("/v1/", "/api/")):
        return None
    if path.startswith(("/v1/submissions", "/api/3/action/datastore_create",
                        "/api/3/action/datastore_upsert")):
        return "ingest"
    if path == "/v1/search" or path.startswith("/v1/search/"):
        return "search"
    for prefix in ("/v1/datasets", "/v1/records", "/v1/regions", "/v1/publishers",
                   "/v1/conflicts", "/v1/aggregates", "/v1/completeness", "/v1/changes",
                   "/v1/keys"):
        # /v1/datasets/{slug}/privacy (issue 19: GET public, PUT walidata) -> registry
        if path == prefix or path.startswith(prefix + "/"):
            return "registry"
    return None


def outgoing_headers(request: Request, principal: Principal | None) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k in FORWARD_REQUEST_HEADERS}
    if principal is not None:
        headers[PRINCIPAL_HEADER] = principal.encode()
    return headers


def etag_of(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cache_headers(request: Request, body: bytes, max_age: int, private: bool) -> dict[str, str]:
    return {"ETag": etag_of(body),
            "Cache-Control": ("private, no-cache" if private
                              else f"public, max-age={max_age}, must-revalidate")}


def not_modified(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match", "")
    return any(tag.strip() in (etag, "*", etag.removeprefix("W/"))
               for tag in wanted.split(",")) if wanted else False


class BodyTooSlow(AppError):
    status_code, code = 408, "body_too_slow"


async def read_body(request: Request, *, timeout: float, min_rate: float,
                    grace: float = 5.0) -> bytes:
    """The whole request body, before any upstream connection is opened: a slow client holds
    only its own request, never a connection to a service. It must arrive within ``timeout``
    seconds and, after ``grace`` seconds, at ``min_rate`` bytes/s or faster (else 408)."""
    started = time.monotonic()
    chunks: list[bytes] = []
    size = 0
    stream = request.stream().__aiter__()
    while True:
        allowed = min(timeout, max(grace, size / min_rate)) if min_rate > 0 else timeout
        wait = started + allowed - time.monotonic()
        try:
            if wait <= 0:
                raise TimeoutError
            chunk = await asyncio.wait_for(anext(stream), wait)
        except StopAsyncIteration:
            return b"".join(chunks)
        except TimeoutError:
            raise BodyTooSlow(
                f"Isi permintaan datang terlalu lambat: harus tiba dalam {timeout:g} detik "
                f"dengan kecepatan paling sedikit {min_rate / 1024:g} KB/detik.") from None
        chunks.append(chunk)
        size += len(chunk)


async def forward(request: Request, upstreams: Upstreams, service: str,
                  principal: Principal | None, *, path: str, max_age: int,
                  body: bytes | None = None) -> Response:
    method = request.method
    target = path + (f"?{request.url.query}" if request.url.query else "")
    response = await upstreams.send(
        service, method, target,
        headers=outgoing_headers(request, principal), content=body, stream=True)
    headers = {k: v for k, v in response.headers.items() if k in PASS_RESPONSE_HEADERS}
    content_type = response.headers.get("content-type", "")
    size = int(response.headers.get("content-length") or 0)
    if method == "GET" and response.status_code == 200 and "json" in content_type \
            and size <= MAX_BUFFERED:
        body = await _read(response, service)
        headers.update(cache_headers(request, body, max_age, principal is not None))
        if not_modified(request, headers["ETag"]):
            return Response(status_code=304, headers={k: headers[k] for k in
                                                      ("ETag", "Cache-Control")})
        return Response(body, status_code=200, headers=headers)
    if size and size <= MAX_BUFFERED or method != "GET":
        body = await _read(response, service)
        return Response(body, status_code=response.status_code, headers=headers)
    return StreamingResponse(response.aiter_raw(), status_code=response.status_code,
                             headers=headers, background=BackgroundTask(response.aclose))


async def _read(response: httpx.Response, service: str) -> bytes:
    try:
        return await response.aread()
    except httpx.HTTPError as exc:  # a timeout or reset while reading the body
        raise Upstreams.transport_error(service, exc) from None
    finally:
        await response.aclose()
