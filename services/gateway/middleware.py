"""Pure ASGI middleware (never BaseHTTPMiddleware: it would buffer streaming exports).

* ``RateLimitMiddleware``: per API key (hashed) or per client address, with the ``limits``
  library in Redis when ``REDIS_URL`` is set (shared by every gateway replica), in memory
  otherwise; ``RateLimit-Limit/-Remaining/-Reset`` on every API answer, ``429`` with
  ``Retry-After`` in the one error shape when spent. Failed authentications (401 to a request
  that carried a key) also count against the client address, whatever key it made up: once
  spent, keyed requests from that address get 429 before any key lookup.
* ``BodyLimitMiddleware``: ``413`` for a body larger than ``max_body_bytes`` (declared or
  streamed).
"""

from __future__ import annotations

import collections
import ipaddress
import json
import math
import re
import time

from limits import parse
from limits.storage import storage_from_string
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import (FixedWindowRateLimiter, MovingWindowRateLimiter,
                                   SlidingWindowCounterRateLimiter)
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway import manifest
from services.gateway.keys import raw_key
from shared.auth import hash_key
from shared.errors import PayloadTooLarge, error_body

API_PREFIXES = ("/v1/", "/api/")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


async def _send_error(send: Send, status: int, code: str, message: str,
                      extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(error_body(code, message)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())] + extra})
    await send({"type": "http.response.body", "body": body})


def trusted(address: str, proxies) -> bool:
    """Whether ``address`` is one of ``proxies`` (addresses or networks, ``ipaddress``)."""
    if not proxies:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_address(scope: Scope, headers, trusted_proxies) -> str:
    """The address of the client: the peer of the connection, or, when that peer is one of
    the operator's proxies (``GATEWAY_TRUST_FORWARDED_FOR`` and ``GATEWAY_TRUSTED_PROXIES``),
    the nearest address it forwarded that is not itself a trusted proxy. Never a header a
    client can set from anywhere else (uvicorn's own proxy handling is off: --no-proxy-headers)."""
    address = (scope.get("client") or ("unknown", 0))[0]
    forwarded = headers.get("x-forwarded-for")
    if forwarded and trusted(address, trusted_proxies):
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        while hops and trusted(hops[-1], trusted_proxies):
            hops.pop()
        address = hops[-1] if hops else address
    return address


def limits_storage(redis_url: str):
    """Redis (``limits``' async storage) when a URL is given, else this process's memory."""
    if not redis_url:
        return MemoryStorage()
    url = redis_url if redis_url.startswith("async+") else "async+" + redis_url
    # redis-py's asyncio client: coredis 6 wants its pool entered as a context manager first
    return storage_from_string(url, implementation="redispy")


# sliding-window (the default) weighs the previous window's count by how much of it still
# overlaps: nearly a moving window's accuracy at a fixed window's cost. limits' in-memory moving
# window expires its event lists through a thread hop on nearly every hit (measured: +0.3-0.6 ms
# of gateway CPU per request, a third of a proxied request).
KNOWN_GOOD_MAX = 100_000  # key hashes that resolved here (most recent kept)
STRATEGIES = {"sliding-window": SlidingWindowCounterRateLimiter,
              "moving-window": MovingWindowRateLimiter, "fixed-window": FixedWindowRateLimiter}


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, per_key: str, per_address: str,
                 strategy: str = "sliding-window", trusted_proxies: tuple = (),
                 auth_failures: str = "100/minute", public_writes: str = "10/hour",
                 redis_url: str = ""):
        self.app = app
        self.per_key = parse(per_key)
        self.public_writes = parse(public_writes)
        self.per_address = parse(per_address)
        self.auth_failures = parse(auth_failures)
        storage = limits_storage(redis_url)
        self.limiter = STRATEGIES[strategy](storage)
        # failed authentications: a fixed window from the first failure, exact within it (the
        # test asserts the 101st is refused). limits' async in-memory moving window can lose an
        # entry: its expiry slices the list after a thread hop while a new hit is inserted
        self.failures = FixedWindowRateLimiter(storage)
        self.trusted_proxies = trusted_proxies
        self.known_good: collections.OrderedDict[str, None] = collections.OrderedDict()

    def _identity(self, scope: Scope, headers: dict[str, str]):
        key = raw_key(headers)
        address = client_address(scope, headers, self.trusted_proxies)
        if key:
            return self.per_key, "key:" + hash_key(key), address
        return self.per_address, "addr:" + address, address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIXES) \
                or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        item, ident, address = self._identity(scope, headers)
        keyed = ident.startswith("key:")
        failures = "authfail:" + address
        # a key this gateway has not seen answer yet costs one look-up from its address's
        # budget, taken (atomically) before the look-up: 400 made-up keys sent at once meet the
        # limit after the budget, not after all 400 were asked about. A key that worked here
        # before costs nothing: a bad client behind a village's NAT cannot lock the village out
        if keyed and ident not in self.known_good and \
                not await self.failures.hit(self.auth_failures, failures):
            stats = await self.failures.get_window_stats(self.auth_failures, failures)
            retry = max(1, math.ceil(stats.reset_time - time.time()))
            await _send_error(send, 429, "too_many_auth_failures",
                              "Terlalu banyak kunci API yang salah dari alamat ini; coba lagi "
                              "nanti.", [(b"retry-after", str(retry).encode())])
            return
        if not keyed and _public_write(scope, path) and \
                not await self.failures.hit(self.public_writes, "pubwrite:" + address):
            await _send_error(send, 429, "rate_limited",
                              "Terlalu banyak laporan dari alamat ini; coba lagi nanti.",
                              [(b"retry-after", b"3600")])
            return
        allowed = await self.limiter.hit(item, ident)
        stats = await self.limiter.get_window_stats(item, ident)
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        rate_headers = [(b"ratelimit-limit", str(item.amount).encode()),
                        (b"ratelimit-remaining", str(stats.remaining).encode()),
                        (b"ratelimit-reset", str(reset).encode())]
        if not allowed:
            await _send_error(send, 429, "rate_limited",
                              "Terlalu banyak permintaan; coba lagi sebentar lagi.",
                              rate_headers + [(b"retry-after", str(max(reset, 1)).encode())])
            return

        status = {"code": 0}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = list(message.get("headers", [])) + rate_headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if keyed and status["code"] not in (0, 401, 429):
            self.known_good[ident] = None  # it resolved: exempt from its address's lockout
            self.known_good.move_to_end(ident)
            while len(self.known_good) > KNOWN_GOOD_MAX:
                self.known_good.popitem(last=False)


def _public_write(scope: Scope, path: str) -> bool:
    """A write anyone may make without a key (the manifest's ``write=PUBLIC``)."""
    method = scope.get("method", "GET")
    route = manifest.lookup(path)
    return method not in manifest.READ_METHODS and route is not None \
        and route.access(method) == manifest.PUBLIC


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _headers(scope).get("content-length")
        message = ("Isi permintaan terlalu besar; batasnya "
                   f"{self.max_bytes // (1024 * 1024)} MB.")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            await _send_error(send, 413, "payload_too_large", message, [])
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_error(send, 413, "payload_too_large", message, [])


class _TooLarge(PayloadTooLarge):
    def __init__(self) -> None:
        super().__init__("Isi permintaan terlalu besar.")


# encoded dots, slashes, backslashes and control bytes; and any encoded unreserved character
# (letters, digits, - _ ~), which has no reason to be encoded and would let a path checked here
# as written ("/v1/regions/alias%65s") be served decoded as another ("/v1/regions/aliases")
_ENCODED_FORBIDDEN = re.compile(
    rb"%(2[dDeEfF]|5[cCfF]|[01][0-9a-fA-F]|7[eEfF]|3[0-9]|4[1-9a-fA-F]|5[0-9aA]|6[1-9a-fA-F]"
    rb"|7[0-9aA])")


def unsafe_path(raw_path: bytes) -> bool:
    """A path the gateway refuses before routing: dot segments, encoded dots or slashes or
    backslashes, empty segments and control bytes. What passes is forwarded exactly as it came,
    so the route the gateway checked is the route the service serves."""
    if _ENCODED_FORBIDDEN.search(raw_path) or b"\\" in raw_path or b"//" in raw_path:
        return True
    if any(b < 0x20 or b == 0x7F for b in raw_path):
        return True
    return any(segment in (b".", b"..") for segment in raw_path.split(b"/"))


class PathGuardMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path") or scope["path"].encode()
        if unsafe_path(raw):
            await _send_error(send, 404, "route_not_found", "Alamat ini tidak ada.", [])
            return
        if len(raw) > 1 and raw.endswith(b"/"):  # answered here, never by a service's redirect
            query = scope.get("query_string") or b""
            location = raw.rstrip(b"/") + (b"?" + query if query else b"")
            await send({"type": "http.response.start", "status": 308,
                        "headers": [(b"location", location), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


# Security headers on every answer (portal, docs and API): scripts only from our own files
# (no inline script), never framed, no MIME sniffing, no referrer to other sites.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
     b"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; "
     b"form-action 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
_SECURITY_NAMES = {name for name, _ in SECURITY_HEADERS}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", [])
                        if k.lower() not in _SECURITY_NAMES and k.lower() != b"server"]
                message["headers"] = kept + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LeanGZipMiddleware(GZipMiddleware):
    """Starlette's GZip for a client that accepts it; for one that does not (every service
    call, most API clients), the answer as the service sent it with ``Vary: Accept-Encoding``
    added, which is all Starlette's identity responder does to it, without holding the head
    back until the first body part or re-reading the excluded types on each request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"gzip" in _header(scope, b"accept-encoding"):
            await super().__call__(scope, receive, send)
            return

        async def send_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                headers.add_vary_header("Accept-Encoding")
                message["headers"] = headers.raw
            await send(message)

        await self.app(scope, receive, send_vary)


def _header(scope: Scope, name: bytes) -> bytes:
    return next((v for k, v in scope["headers"] if k.lower() == name), b"")

