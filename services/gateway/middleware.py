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

import json
import math
import re
import time

from limits import parse
from limits.storage import storage_from_string
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import (FixedWindowRateLimiter, MovingWindowRateLimiter,
                                   SlidingWindowCounterRateLimiter)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def client_address(scope: Scope, headers, trust_forwarded_for: bool) -> str:
    address = (scope.get("client") or ("unknown", 0))[0]
    forwarded = headers.get("x-forwarded-for")
    if trust_forwarded_for and forwarded:
        address = forwarded.split(",")[0].strip()
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
STRATEGIES = {"sliding-window": SlidingWindowCounterRateLimiter,
              "moving-window": MovingWindowRateLimiter, "fixed-window": FixedWindowRateLimiter}


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, per_key: str, per_address: str,
                 strategy: str = "sliding-window", trust_forwarded_for: bool = False,
                 auth_failures: str = "100/minute", redis_url: str = ""):
        self.app = app
        self.per_key = parse(per_key)
        self.per_address = parse(per_address)
        self.auth_failures = parse(auth_failures)
        storage = limits_storage(redis_url)
        self.limiter = STRATEGIES[strategy](storage)
        # failed authentications: a fixed window from the first failure, exact within it (the
        # test asserts the 101st is refused). limits' async in-memory moving window can lose an
        # entry: its expiry slices the list after a thread hop while a new hit is inserted
        self.failures = FixedWindowRateLimiter(storage)
        self.trust_forwarded_for = trust_forwarded_for

    def _identity(self, scope: Scope, headers: dict[str, str]):
        key = raw_key(headers)
        address = client_address(scope, headers, self.trust_forwarded_for)
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
        if keyed and not await self.failures.test(self.auth_failures, failures):
            stats = await self.failures.get_window_stats(self.auth_failures, failures)
            retry = max(1, math.ceil(stats.reset_time - time.time()))
            await _send_error(send, 429, "too_many_auth_failures",
                              "Terlalu banyak kunci API yang salah dari alamat ini; coba lagi "
                              "nanti.", [(b"retry-after", str(retry).encode())])
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
        if keyed and status["code"] == 401:
            await self.failures.hit(self.auth_failures, failures)


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


_ENCODED_FORBIDDEN = re.compile(rb"%(2[eEfF]|5[cC]|[01][0-9a-fA-F]|7[fF])")


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
        if scope["type"] == "http" and unsafe_path(scope.get("raw_path")
                                                   or scope["path"].encode()):
            await _send_error(send, 404, "route_not_found", "Alamat ini tidak ada.", [])
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
