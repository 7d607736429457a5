"""Typed errors and the one error shape: {"error": {"code", "message", "details"}}.

Services raise these; ``install_error_handlers`` maps them (and FastAPI's own validation errors)
to status codes. Messages shown to villages are in Bahasa Indonesia; codes are English.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
import asyncpg.exceptions._base as asyncpg_base
import nats.errors as nats_errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.i18n import http_reason, validation_details

log = logging.getLogger("satudata.errors")


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 details: list[dict[str, Any]] | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []
        self.headers = headers

    def body(self) -> dict:
        return error_body(self.code, self.message, self.details)


class BadRequest(AppError):
    status_code, code = 400, "bad_request"


class Unauthorized(AppError):
    status_code, code = 401, "unauthorized"


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class MethodNotAllowed(AppError):
    status_code, code = 405, "method_not_allowed"


class Conflict(AppError):
    status_code, code = 409, "conflict"


class Gone(AppError):
    status_code, code = 410, "gone"


class PayloadTooLarge(AppError):
    status_code, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code, code = 415, "unsupported_media_type"


class Unprocessable(AppError):
    status_code, code = 422, "validation_failed"


class TooManyRequests(AppError):
    status_code, code = 429, "rate_limited"


class UpstreamError(AppError):
    status_code, code = 502, "bad_gateway"


class ServiceUnavailable(AppError):
    status_code, code = 503, "service_unavailable"


class UpstreamTimeout(AppError):
    status_code, code = 504, "gateway_timeout"


def error_body(code: str, message: str, details: list | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or []}}


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 410: "gone", 413: "payload_too_large",
                 415: "unsupported_media_type", 429: "rate_limited"}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError):
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError):
        details = validation_details(exc.errors())
        return JSONResponse(
            error_body("validation_failed", "Permintaan tidak valid; periksa kolom yang disebut.",
                       details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        if message == _phrase(exc.status_code) or message == code:  # Starlette's English
            message = http_reason(exc.status_code, request.method) or "Permintaan gagal."
        return JSONResponse(error_body(code, message), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(asyncpg.DataError)
    @app.exception_handler(asyncpg_base.DataError)
    @app.exception_handler(asyncpg.IntegrityConstraintViolationError)
    async def _bad_value(_: Request, exc: Exception):
        """Safety net behind the request models: a value the database refuses (out of range,
        NUL in text, a required column left empty) is the caller's input, never a 500."""
        if isinstance(exc, asyncpg.UniqueViolationError):
            return JSONResponse(error_body("conflict", "Data dengan kunci yang sama sudah ada."),
                                status_code=409)
        log.warning("database refused a value: %s: %s", type(exc).__name__, str(exc)[:200])
        return JSONResponse(
            error_body("invalid_value", "Ada nilai yang tidak dapat disimpan (di luar jangkauan, "
                                        "berisi karakter terlarang, atau kosong)."),
            status_code=422)

    for away in AWAY_TYPES:
        app.add_exception_handler(away, _away)  # registered inside the app: no 500 is logged

    @app.exception_handler(Exception)
    async def _unhandled(_: Request, exc: Exception):
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            error_body("internal_error", "Terjadi kesalahan di server; silakan coba lagi."),
            status_code=500,
        )


# What a lost database or NATS raises: each answered 503 by ``_away`` when ``bus_failures``
# says WAIT (a PostgresError that is bad data or a bug is re-raised: 422 or 500).
AWAY_TYPES = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
              asyncpg_base.InternalClientError, nats_errors.Error)
DEPENDENCY_MESSAGES = {
    "database": "Basis data sedang tidak dapat dihubungi; data Anda aman. Silakan coba lagi "
                "sebentar lagi.",
    "nats": "Layanan pesan (NATS) sedang tidak dapat dihubungi; silakan coba lagi sebentar lagi.",
}


async def _away(_: Request, exc: Exception):
    """A dependency away is a 503 with ``Retry-After`` naming it: never the caller's fault,
    nor a bug."""
    from shared.bus_failures import Decision, decide  # the one table of "a dependency is away"

    if decide(exc) is not Decision.WAIT:
        raise exc  # a real bug: the catch-all answers 500 and logs it
    dependency = away_dependency(exc)
    log.warning("dependency away: %s: %s: %s", dependency, type(exc).__name__, exc)
    return JSONResponse(
        error_body("dependency_unavailable", DEPENDENCY_MESSAGES[dependency],
                   [{"dependency": dependency}]),
        status_code=503, headers={"Retry-After": "5"})


def away_dependency(exc: BaseException) -> str:
    """Which dependency an exception of a lost connection names: NATS's own errors, else the
    database (the only other connection a service holds while answering)."""
    return "nats" if isinstance(exc, nats_errors.Error) else "database"


def unknown_parameter(names: list[str], accepted: list[str],
                      dimensions: list[str] | None = None) -> Unprocessable:
    """422 naming the unknown parameters and what is taken instead (``dimensions``: the
    dataset's, on a route that filters by them)."""
    said = [f"Parameter tidak dikenal: {', '.join(sorted(names))}."]
    if accepted:
        said.append(f"Yang diterima: {', '.join(sorted(accepted))}.")
    if dimensions is not None:
        said.append(f"Dimensi dataset ini: {', '.join(dimensions) or 'tidak ada'}.")
    return Unprocessable(" ".join(said), code="unknown_parameter",
                         details=[{"field": n, "message": "parameter tidak dikenal"}
                                  for n in sorted(names)])
