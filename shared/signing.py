"""Signed identity between services: no service trusts a call it cannot verify.

Every call from one service to another carries an HMAC-SHA256 signature, made with a secret
the services share (``SATUDATA_SERVICE_SECRET``), over:

    v1 \\n caller service \\n principal header \\n method \\n path?query \\n sha256(body)
       \\n call id \\n unix time

The receiver (``SignatureMiddleware``, added to every service by ``shared.web.build_app``)
refuses with 401 what is unsigned, signed with another secret, altered in any of those parts,
older (or newer) than ``max_age`` seconds, or replayed (a call id seen within the window). The
body digest is checked while the body streams in; a body that does not match is refused
before the handler can finish with it. ``/healthz``, ``/readyz`` and ``/metrics`` need no
signature. HMAC (stdlib ``hmac``) rather than JWTs: both ends are ours, the secret is shared
anyway, and a JWT library would add a dependency and a parser for no gain.

Rotation: a receiver accepts ``SATUDATA_SERVICE_SECRET`` and ``SATUDATA_SERVICE_SECRET_PREVIOUS``;
a sender signs with the first, so old and new secrets are both valid while replicas roll over
(docs/architecture.md, "Signed calls between services").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import tempfile
import time
import uuid
from collections import OrderedDict
from typing import Iterable

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import PRINCIPAL_HEADER
from shared.errors import error_body

log = logging.getLogger("satudata.signing")

SERVICE_HEADER = "X-Satudata-Service"
TIME_HEADER = "X-Satudata-Time"
CALL_ID_HEADER = "X-Satudata-Call-Id"
DIGEST_HEADER = "X-Satudata-Body-SHA256"
SIGNATURE_HEADER = "X-Satudata-Signature"
# On a refusal: tells a caller (the gateway) that its own signature was refused, a
# misconfiguration between services, not the end user's fault.
REFUSED_HEADER = "X-Satudata-Refused"
UNSIGNED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
CHUNK = 256 * 1024


def canonical(service: str, principal: str, method: str, target: str, digest: str,
              call_id: str, timestamp: str) -> bytes:
    return "\n".join(("v1", service, principal, method.upper(), target, digest, call_id,
                      timestamp)).encode("utf-8", "surrogateescape")


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, service: str, method: str, target: str, body: bytes,
                   principal: str = "", *, now: float | None = None,
                   call_id: str | None = None) -> dict[str, str]:
    """The headers that make one call verifiable (``target`` is the raw path and query)."""
    digest = hashlib.sha256(body).hexdigest()
    call_id = call_id or uuid.uuid4().hex
    timestamp = str(int(now if now is not None else time.time()))
    signature = sign(secret, canonical(service, principal, method, target, digest, call_id,
                                       timestamp))
    return {SERVICE_HEADER: service, TIME_HEADER: timestamp, CALL_ID_HEADER: call_id,
            DIGEST_HEADER: digest, SIGNATURE_HEADER: f"v1={signature}"}


class ServiceAuth(httpx.Auth):
    """httpx auth that signs every request a service sends to another service.

    The body is read to digest it (``requires_request_body``), so callers send bytes, not
    streams; the gateway buffers a request body anyway before it opens an upstream call."""

    requires_request_body = True

    def __init__(self, secret: str, service: str):
        self.secret = secret
        self.service = service

    def auth_flow(self, request: httpx.Request):
        target = request.url.raw_path.decode("ascii")
        principal = request.headers.get(PRINCIPAL_HEADER, "")
        request.headers.update(signed_headers(self.secret, self.service, request.method,
                                              target, request.content, principal))
        yield request


class ReplayGuard:
    """Call ids seen within the window (per process; the window bounds the memory)."""

    def __init__(self, window: float, size: int = 200_000):
        self.window = window
        self.size = size
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, call_id: str, now: float) -> bool:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if at > now - 2 * self.window and len(self._seen) < self.size:
                break
            self._seen.popitem(last=False)
        if call_id in self._seen:
            return False
        self._seen[call_id] = now
        return True


class _BadSignature(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class SignatureMiddleware:
    """Pure ASGI: verifies every call except health and metrics (401 otherwise)."""

    def __init__(self, app: ASGIApp, *, secrets: Iterable[str], max_age: float = 30.0):
        self.app = app
        self.secrets = [s for s in secrets if s]
        self.max_age = max_age
        self.replays = ReplayGuard(max_age)
        if not self.secrets:
            log.warning("no SATUDATA_SERVICE_SECRET configured: every signed route answers 401")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNSIGNED_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            claimed = self._verify_headers(scope)
        except _BadSignature as exc:
            log.warning("refused an unverified call to %s %s: %s", scope.get("method"),
                        scope.get("path"), exc.code)
            await _refuse(send, exc)
            return
        # The body is spooled (memory up to 1 MB, then a temporary file) and checked against
        # its digest before the app sees a byte of it: a handler never acts on altered data.
        spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        try:
            digest = hashlib.sha256()
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                digest.update(chunk)
                spool.write(chunk)
                if not message.get("more_body"):
                    break
            if not hmac.compare_digest(digest.hexdigest(), claimed):
                log.warning("refused a call whose body was altered: %s", scope.get("path"))
                await _refuse(send, _BadSignature(
                    "signature_mismatch", "Isi permintaan tidak cocok dengan tanda tangannya."))
                return
            spool.seek(0)
            done = False

            async def replay() -> Message:
                nonlocal done
                if done:
                    return await receive()
                chunk = spool.read(CHUNK)
                more = spool.tell() < body_size
                done = not more
                return {"type": "http.request", "body": chunk, "more_body": more}

            body_size = spool.seek(0, 2)
            spool.seek(0)
            await self.app(scope, replay, send)
        finally:
            spool.close()

    def _verify_headers(self, scope: Scope) -> str:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        signature = headers.get(SIGNATURE_HEADER.lower(), "")
        if not signature:
            raise _BadSignature("unsigned_call", "Panggilan antarlayanan harus ditandatangani.")
        service = headers.get(SERVICE_HEADER.lower(), "")
        timestamp = headers.get(TIME_HEADER.lower(), "")
        call_id = headers.get(CALL_ID_HEADER.lower(), "")
        digest = headers.get(DIGEST_HEADER.lower(), "")
        # ASCII digits of a sane length (int() of '²' or of 5,000 digits raises), an ASCII
        # signature (compare_digest refuses other strings): anything else is a bad signature
        if not (service and timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12
                and call_id and len(digest) == 64 and signature.isascii()):
            raise _BadSignature("invalid_signature", "Tanda tangan panggilan tidak lengkap.")
        now = time.time()
        if abs(now - int(timestamp)) > self.max_age:
            raise _BadSignature("stale_signature", "Tanda tangan panggilan sudah kedaluwarsa.")
        target = scope.get("raw_path") or scope.get("path", "").encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        message = canonical(service, headers.get(PRINCIPAL_HEADER.lower(), ""),
                            scope.get("method", ""), target.decode("latin-1"), digest,
                            call_id, timestamp)
        given = signature.removeprefix("v1=")
        if not any(hmac.compare_digest(sign(secret, message), given) for secret in self.secrets):
            raise _BadSignature("invalid_signature", "Tanda tangan panggilan tidak valid.")
        if not self.replays.first_time(call_id, now):
            raise _BadSignature("replayed_call", "Panggilan ini sudah pernah diterima.")
        return digest


async def _refuse(send: Send, exc: _BadSignature) -> None:
    body = json.dumps(error_body(exc.code, exc.message)).encode()
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (REFUSED_HEADER.lower().encode(), b"signature")]})
    await send({"type": "http.response.body", "body": body})
