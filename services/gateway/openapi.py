"""One OpenAPI document for the public API, merged from the services' own documents.

Fetched lazily (and kept ``openapi_ttl`` seconds): each service's ``/openapi.json``, keeping
only the paths the gateway routes to that service (never ``/internal``, ``/healthz``,
``/readyz``), plus the gateway's own routes (exports, events, CKAN). A schema name two services
define differently is renamed ``<service>_<Name>`` in the second one. A service that is down is
listed under ``x-missing-services`` instead of failing the document.

Errors are documented as the platform's one shape (``Error``) through shared
``components.responses`` instead of FastAPI's ``HTTPValidationError``, and every operation
carries an example: hand-written where it teaches something (submissions, CKAN, records),
otherwise built from the response schema with the domain's own values (``examples.py``).
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from services.gateway import openapi_ckan
from services.gateway.examples import example_for
from services.gateway.manifest import PUBLIC, access_of, route_service
from services.gateway.upstream import SERVICES, Upstreams

SECURITY = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "Kunci API: `Authorization: Bearer <kunci>`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}

EXAMPLES: dict[tuple[str, str], Any] = {
    ("/v1/datasets", "get"): {"items": [{"slug": "jumlah-penduduk",
                                         "title": "Jumlah Penduduk menurut Desa dan Jenis "
                                                  "Kelamin", "frequency": "annual",
                                         "topic": "kependudukan", "version": 1}], "count": 1},
    ("/v1/datasets/{slug}/records", "get"): {
        "items": [{"id": "0b6f7c1e-2f55-4d0a-9a51-3b8f0e0c2a11", "dataset": "jumlah-penduduk",
                   "region_code": "64.08.04.2001", "period": "2023",
                   "dimensions": {"jenis_kelamin": "L"}, "values": {"jumlah": 2315},
                   "version": 1, "status": "current"}], "next_cursor": None},
    ("/v1/changes", "get"): {"items": [{"record_id": "0b6f7c1e-2f55-4d0a-9a51-3b8f0e0c2a11",
                                        "dataset": "jumlah-penduduk",
                                        "region_code": "64.08.04.2001", "period": "2023",
                                        "values": {"jumlah": 2315}, "version": 2, "seq": 41}],
                             "next": 41},
}

GATEWAY_PATHS: dict[str, Any] = {
    "/v1/events": {"get": {
        "tags": ["gateway"], "summary": "Perubahan data secara langsung (server-sent events)",
        "description": "Each record change as `event: record` with `id: <seq>` and the "
                       "RecordV1 JSON as data. Resume with `Last-Event-ID` or `?since=`; "
                       "`?dataset=` keeps one dataset.",
        "parameters": [{"name": "since", "in": "query", "schema": {"type": "integer"}},
                       {"name": "dataset", "in": "query", "schema": {"type": "string"}},
                       {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "text/event-stream",
                              "content": {"text/event-stream": {
                                  "schema": {"type": "string"}, "example":
                                  'id: 41\nevent: record\ndata: {"dataset": "jumlah-penduduk"'
                                  ', "seq": 41, ...}\n\n'}}}}}},
}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "description": "The one error shape of the platform: `code` in English (stable, for "
                   "programs), `message` in Bahasa Indonesia (for people), `details` naming "
                   "fields or rows.",
    "properties": {"error": {"type": "object", "required": ["code", "message", "details"],
                             "properties": {
        "code": {"type": "string", "examples": ["validation_failed"]},
        "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object", "additionalProperties": True,
                                               "properties": {
            "field": {"type": "string"}, "code": {"type": "string"},
            "message": {"type": "string"}, "index": {"type": "integer"}}}}}}}}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"},
                               "description": "seconds to wait before trying again"}}
# name: (status, description, code, message, details)
ERRORS: dict[str, tuple[str, str, str, str, list]] = {
    "BadRequest": ("400", "Permintaan tidak dapat dibaca", "bad_request",
                   "Badan permintaan bukan JSON maupun CSV.", []),
    "Unauthorized": ("401", "Kunci API tidak ada, tidak dikenal, kedaluwarsa atau dicabut",
                     "invalid_api_key", "Kunci API tidak dikenal.", []),
    "Forbidden": ("403", "Kunci ini tidak berwenang atas dataset, wilayah atau aksi ini",
                  "forbidden", "Kunci ini tidak boleh menulis dataset ini.", []),
    "NotFound": ("404", "Tidak ada", "dataset_not_found", "Dataset 'x' tidak ada.", []),
    "Conflict": ("409", "Bertentangan dengan keadaan saat ini", "conflict",
                 "Konflik ini sudah diselesaikan.", []),
    "PayloadTooLarge": ("413", "Isi permintaan terlalu besar", "payload_too_large",
                        "Isi permintaan terlalu besar; batasnya 100 MB.", []),
    "UnsupportedMediaType": ("415", "Jenis isi tidak didukung", "unsupported_media_type",
                             "Kirim JSON, CSV atau XLSX.", []),
    "ValidationFailed": ("422", "Kolom atau parameter tidak valid", "validation_failed",
                         "Permintaan tidak valid; periksa kolom yang disebut.",
                         [{"field": "rows", "code": "missing", "message": "Wajib diisi."}]),
    "TooManyRequests": ("429", "Batas permintaan terlampaui (lihat Retry-After)",
                        "rate_limited", "Terlalu banyak permintaan; coba lagi sebentar lagi.",
                        []),
    "ServiceUnavailable": ("503", "Layanan di belakang gateway sedang tidak tersedia "
                                  "(lihat Retry-After)", "service_unavailable",
                           "Layanan sedang tidak tersedia; coba lagi sebentar lagi.", []),
}


def _error_responses() -> dict[str, Any]:
    out = {}
    for name, (status, description, code, message, details) in ERRORS.items():
        out[name] = {"description": description, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"},
            "example": {"error": {"code": code, "message": message, "details": details}}}}}
        if status in ("429", "503"):
            out[name]["headers"] = RETRY_AFTER
    return out


def _errors_for(path: str, method: str, op: dict) -> dict[str, dict]:
    """Which shared error answers an operation can give."""
    # (any operation refuses a query parameter it does not take: 422 unknown_parameter)
    names = ["TooManyRequests", "ServiceUnavailable", "Unauthorized", "ValidationFailed"]
    if "{" in path:
        names.append("NotFound")
    if method != "get" or access_of(method.upper(), path) != PUBLIC:
        names.append("Forbidden")
    if method != "get":
        names += ["BadRequest", "Conflict", "PayloadTooLarge"]
    if path == "/v1/submissions" and method == "post":
        names += ["UnsupportedMediaType", "NotFound"]
    by_status = {ERRORS[n][0]: {"$ref": f"#/components/responses/{n}"} for n in names}
    return dict(sorted(by_status.items()))


def _document_errors_and_examples(out: dict) -> None:
    schemas = out["components"]["schemas"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    out["components"]["responses"] = _error_responses()
    for path, item in out["paths"].items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            if path.startswith("/v1/"):
                responses.pop("422", None)  # FastAPI's HTTPValidationError
                for status, ref in _errors_for(path, method, op).items():
                    responses.setdefault(status, ref)
            for status, response in responses.items():
                if not status.startswith("2"):
                    continue
                media = (response.get("content") or {}).get("application/json")
                if media is not None and "example" not in media and "schema" in media:
                    media["example"] = example_for(media["schema"], schemas)
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body and "schema" in body:
                body["example"] = example_for(body["schema"], schemas)


def merge(docs: dict[str, dict], title: str = "Satu Data Kutai Timur API") -> dict:
    out: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1",
                 "description": "API publik Satu Data Kabupaten Kutai Timur. GET publik tanpa "
                                "kunci; penulisan memerlukan kunci API."},
        "paths": {}, "components": {"schemas": {}, "securitySchemes": SECURITY},
        "security": [{}, {"bearer": []}, {"apiKey": []}],
    }
    schemas = out["components"]["schemas"]
    missing = [name for name in SERVICES if name not in docs]
    for service, doc in docs.items():
        doc = copy.deepcopy(doc)
        own = (doc.get("components") or {}).get("schemas") or {}
        renames = {n: f"{service}_{n}" for n, s in own.items() if n in schemas and schemas[n] != s}
        if renames:
            text = json.dumps(doc)
            for old, new in renames.items():
                text = text.replace(f'"#/components/schemas/{old}"',
                                    f'"#/components/schemas/{new}"')
            doc = json.loads(text)
            own = {renames.get(n, n): s for n, s in doc["components"]["schemas"].items()}
        schemas.update(own)
        for path, item in (doc.get("paths") or {}).items():
            if route_service(path) != service:
                continue
            out["paths"][path] = item
    for (path, method), example in EXAMPLES.items():
        op = out["paths"].get(path, {}).get(method)
        if op:
            content = op.setdefault("responses", {}).setdefault("200", {"description": "OK"}) \
                .setdefault("content", {}).setdefault("application/json", {})
            content["example"] = example
    out["paths"].update(GATEWAY_PATHS)
    out["paths"].update(openapi_ckan.paths())
    schemas.update(openapi_ckan.SCHEMAS)
    _document_errors_and_examples(out)
    if missing:
        out["x-missing-services"] = missing
    return out


class OpenApiCache:
    def __init__(self, upstreams: Upstreams, ttl: float):
        self.upstreams = upstreams
        self.ttl = ttl
        self._doc: dict | None = None
        self._at = 0.0

    async def document(self) -> dict:
        if self._doc is not None and time.monotonic() - self._at < self.ttl:
            return self._doc
        docs = {}
        for service in SERVICES:
            try:
                _, docs[service] = await self.upstreams.get_json(service, "/openapi.json")
            except Exception:  # noqa: BLE001 - a service that is down is listed as missing
                continue
        doc = merge(docs)
        # keep a complete document for the full ttl, an incomplete one only briefly
        self._doc, self._at = doc, time.monotonic() - (0 if len(docs) == len(SERVICES)
                                                       else self.ttl * 0.9)
        return doc
