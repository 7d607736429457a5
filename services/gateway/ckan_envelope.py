"""CKAN's envelope, the one shape of every ``/api/`` answer: ``{"help", "success", "result"}``,
and for errors ``{"help", "success": false, "error": {"__type", "message", "code", "details"}}``
(CKAN's ``__type`` and message, with the platform's ``code`` and ``details`` beside them), so
ckanapi raises ``NotFound``, ``NotAuthorized`` and ``ValidationError`` as it does against CKAN.

``shared.ckan.error_envelope`` is the one builder (ingest's CKAN actions use it too): the CKAN actions the gateway answers use it, and
``CkanEnvelopeMiddleware`` wraps every other error on ``/api/`` with it (the gateway's own
401/404/405/413/429/5xx, a refused key, an upstream's platform-shaped error).
"""

from __future__ import annotations

import gzip
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.ckan import error_envelope
from shared.errors import AppError

class CkanError(AppError):
    """Answered in CKAN's shape (``success: false``), the one error shape inside it."""

    def __init__(self, status: int, ckan_type: str, message: str, code: str):
        super().__init__(message, code=code)
        self.status_code = status
        self.ckan_type = ckan_type


def exception_envelope(base: str, action: str, exc: AppError) -> dict:
    return error_envelope(base, action, exc.status_code,
                          {"code": exc.code, "message": exc.message, "details": exc.details},
                          getattr(exc, "ckan_type", None))


def base_url(scope: Scope, public_url: str = "") -> str:
    """The base URL of ``help`` links: the gateway's public base (``public_base``), never the
    request's Host header nor a service's own address."""
    return public_url.rstrip("/")


class CkanEnvelopeMiddleware:
    """Every error answer on ``/api/`` in CKAN's envelope, whoever produced it: the gateway's
    own 401/404/405/413/429/5xx, a refused key, an upstream's platform-shaped error. Answers
    already in CKAN's shape (``success`` present) and successful answers pass untouched, and
    only error bodies (small) are buffered."""

    def __init__(self, app: ASGIApp, public_url: str = ""):
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] < 400:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                await send_envelope(start, b"".join(chunks))

        async def send_envelope(start: Message, raw: bytes) -> None:
            encoded = dict(start.get("headers", [])).get(b"content-encoding", b"")
            try:
                body = json.loads((gzip.decompress(raw) if encoded == b"gzip" else raw) or b"{}")
            except (ValueError, OSError):
                body = {}
            if not (isinstance(body, dict) and "success" in body):
                error = body.get("error") if isinstance(body, dict) else None
                body = error_envelope(base_url(scope, self.public_url),
                                      scope["path"].rstrip("/").rsplit("/", 1)[-1],
                                      start["status"], error if isinstance(error, dict) else {})
            raw = json.dumps(body).encode()
            headers = [(k, v) for k, v in start.get("headers", [])
                       if k.lower() not in (b"content-length", b"content-type",
                                            b"content-encoding")]
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(raw)).encode())]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": raw})

        await self.app(scope, receive, wrapped)
