"""The CKAN-compatible API in the OpenAPI document: typed parameters, envelopes and examples.

The gateway answers these actions itself (reads) or forwards them to ingest (writes), so it
describes them here; the shapes follow ``services/gateway/ckan.py`` and
``services/ingest/ckan_routes.py``.
"""

from __future__ import annotations

from typing import Any

from services.gateway.ckan_actions import ACTIONS, REF, WRITE_EXAMPLE

HELP = "https://data.kutaitimurkab.go.id/api/3/action/help_show?name="

SCHEMAS: dict[str, Any] = {
    "CkanTag": {"type": "object", "properties": {
        "name": {"type": "string"}, "display_name": {"type": "string"}}},
    "CkanResource": {"type": "object", "required": ["id", "package_id", "format", "url"],
                     "properties": {
        "id": {"type": "string", "description": "the dataset slug (CSV) or <slug>-xlsx"},
        "package_id": {"type": "string"}, "name": {"type": "string"},
        "format": {"type": "string", "enum": ["CSV", "XLSX"]},
        "mimetype": {"type": ["string", "null"]}, "url": {"type": "string", "format": "uri"},
        "datastore_active": {"type": "boolean"}, "position": {"type": "integer"},
        "state": {"type": "string"},
        "last_modified": {"type": ["string", "null"], "format": "date-time"}}},
    "CkanOrganization": {"type": "object", "required": ["id", "name", "title"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "title": {"type": "string"},
        "type": {"type": "string", "const": "organization"}, "state": {"type": "string"},
        "is_organization": {"type": "boolean"}, "description": {"type": "string"},
        "region_scope": {"type": ["string", "null"]},
        "package_count": {"type": "integer"},
        "packages": {"type": "array", "items": {"$ref": REF + "CkanPackage"},
                     "description": "with include_datasets=true"}}},
    "CkanGroup": {"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "title": {"type": "string"},
        "package_count": {"type": "integer"}}},
    "CkanPackage": {"type": "object", "required": ["id", "name", "title", "resources"],
                    "properties": {
        "id": {"type": "string"}, "name": {"type": "string", "description": "dataset slug"},
        "title": {"type": "string"}, "notes": {"type": ["string", "null"]},
        "type": {"type": "string"}, "state": {"type": "string"}, "private": {"type": "boolean"},
        "license_id": {"type": ["string", "null"]}, "license_title": {"type": ["string", "null"]},
        "metadata_created": {"type": ["string", "null"], "format": "date-time"},
        "metadata_modified": {"type": ["string", "null"], "format": "date-time"},
        "version": {"type": "string"}, "frequency": {"type": ["string", "null"]},
        "topic": {"type": ["string", "null"]}, "author": {"type": ["string", "null"]},
        "maintainer": {"type": ["string", "null"]}, "owner_org": {"type": ["string", "null"]},
        "organization": {"anyOf": [{"$ref": REF + "CkanOrganization"}, {"type": "null"}]},
        "tags": {"type": "array", "items": {"$ref": REF + "CkanTag"}},
        "num_tags": {"type": "integer"},
        "groups": {"type": "array", "items": {"$ref": REF + "CkanGroup"}},
        "resources": {"type": "array", "items": {"$ref": REF + "CkanResource"}},
        "num_resources": {"type": "integer"},
        "extras": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"}, "value": {"type": "string"}}}},
        "metadata_statistik": {
            "type": "object", "description": "the verified BPS statistical metadata "
            "(MS-Kegiatan; per measure MS-Variabel or MS-Indikator), as the registry's "
            "/v1/datasets/{slug}/statistical-metadata", "properties": {
                "version": {"type": "integer"}, "complete": {"type": "boolean"},
                "missing": {"type": "array", "items": {"type": "string"}},
                "document": {"type": "object", "additionalProperties": True},
                "url": {"type": "string"}, "xlsx": {"type": "string"}}},
        "url": {"type": "string"}}},
    "CkanSearchResult": {"type": "object", "required": ["count", "results"], "properties": {
        "count": {"type": "integer"}, "sort": {"type": "string"},
        "results": {"type": "array", "items": {"$ref": REF + "CkanPackage"}},
        "facets": {"type": "object", "additionalProperties": {
            "type": "object", "additionalProperties": {"type": "integer"}}},
        "search_facets": {"type": "object"}}},
    "CkanDatastoreField": {"type": "object", "properties": {
        "id": {"type": "string"}, "type": {"type": "string", "enum": ["text", "numeric"]}}},
    "CkanDatastoreResult": {"type": "object", "required": ["resource_id", "records", "total"],
                            "properties": {
        "resource_id": {"type": "string"},
        "fields": {"type": "array", "items": {"$ref": REF + "CkanDatastoreField"}},
        "records": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "total": {"type": "integer"}, "limit": {"type": "integer"},
        "offset": {"type": "integer"}, "filters": {"type": "object"},
        "sort": {"type": "string"}, "include_total": {"type": "boolean"},
        "_links": {"type": "object", "properties": {"start": {"type": "string"},
                                                    "next": {"type": "string"}}}}},
    "CkanStatus": {"type": "object", "properties": {
        "site_title": {"type": "string"}, "site_url": {"type": "string"},
        "site_description": {"type": "string"}, "ckan_version": {"type": "string"},
        "locale_default": {"type": "string"},
        "extensions": {"type": "array", "items": {"type": "string"}}}},
    "CkanDatastoreRequest": {
        "type": "object", "additionalProperties": True,
        "description": "CKAN's datastore_create / datastore_upsert body; other keys CKAN "
                       "clients send are ignored.",
        "properties": {
            "resource_id": {"type": "string", "description": "dataset slug, or a key of "
                                                             "INGEST_CKAN_RESOURCE_MAP"},
            "resource": {"type": "object", "description": "datastore_create: "
                                                          "{package_id} instead of resource_id"},
            "fields": {"type": "array", "items": {"$ref": REF + "CkanDatastoreField"}},
            "records": {"type": "array", "items": {"type": "object",
                                                   "additionalProperties": True}},
            "primary_key": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                      {"type": "string"}, {"type": "null"}]},
            "method": {"type": "string", "enum": ["upsert", "insert", "update"],
                       "default": "upsert"},
            "dry_run": {"type": "boolean", "default": False},
            "force": {"type": "boolean", "default": False}}},
    "CkanDatastoreWriteResult": {"type": "object", "properties": {
        "resource_id": {"type": "string"}, "method": {"type": "string"},
        "fields": {"type": "array", "items": {"type": "object"}},
        "primary_key": {"anyOf": [{"type": "array", "items": {"type": "string"}},
                                  {"type": "string"}, {"type": "null"}]},
        "dataset": {"type": "string"}, "records_count": {"type": "integer"},
        "submission_id": {"type": ["string", "null"], "format": "uuid"},
        "status": {"type": "string"}, "status_url": {"type": "string"},
        "warnings": {"type": "array", "items": {"type": "object"}},
        "dry_run": {"type": "boolean"}, "counts": {"type": "object"},
        "rejected_rows": {"type": "array", "items": {"type": "object"}}}},
    "CkanError": {"type": "object", "required": ["success", "error"], "properties": {
        "help": {"type": "string"}, "success": {"type": "boolean", "const": False},
        "error": {"type": "object", "required": ["__type", "message"], "properties": {
            "__type": {"type": "string", "enum": [
                "Not Found Error", "Authorization Error", "Validation Error",
                "Bad request - Action name not known", "Internal Error"]},
            "message": {"type": "string"}, "code": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object"}}}}}},
}


def _envelope(result: dict) -> dict:
    return {"type": "object", "required": ["success", "result"], "properties": {
        "help": {"type": "string"}, "success": {"type": "boolean", "const": True},
        "result": result}}


def _error(kind: str, status: int, message: str, code: str) -> dict:
    return {"description": f"{kind} (CKAN envelope)", "content": {"application/json": {
        "schema": {"$ref": REF + "CkanError"},
        "example": {"help": HELP + "package_show", "success": False, "error": {
            "__type": kind, "message": message, "code": code, "details": []}}}}}


ERRORS = {
    "400": _error("Bad request - Action name not known", 400, "Aksi 'x' tidak tersedia.",
                  "unknown_action"),
    "401": _error("Authorization Error", 401, "Kunci API tidak dikenal.", "invalid_api_key"),
    "404": _error("Not Found Error", 404, "Dataset 'x' tidak ada.", "dataset_not_found"),
    "409": _error("Validation Error", 409, "Parameter id diperlukan.", "missing_id"),
    "429": _error("Validation Error", 429, "Terlalu banyak permintaan; coba lagi sebentar "
                                           "lagi.", "rate_limited"),
}


def _ok(action: str, schema: dict, example: Any) -> dict:
    return {"description": "CKAN result", "content": {"application/json": {
        "schema": _envelope(schema),
        "example": {"help": HELP + action, "success": True, "result": example}}}}


def paths() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, action in ACTIONS.items():
        out[f"/api/3/action/{name}"] = (_read(name, action) if action.service == "gateway"
                                        else _write(name, action))
    return out


def _read(name: str, action) -> dict:
    return {"get": {
        "tags": ["ckan"], "summary": f"CKAN {name}: {action.summary}",
        "operationId": f"ckan_{name}",
        "description": "CKAN-compatible read (GET query, or POST with the same keys in a "
                       "JSON body; also under `/api/action/`). A key is optional; a given "
                       "key must be valid.",
        "parameters": action.params,
        "responses": {"200": _ok(name, action.result, action.example),
                      **{k: v for k, v in ERRORS.items() if k != "400"}}}}


def _write(name: str, action) -> dict:
    return {"post": {
        "tags": ["ckan"], "summary": f"CKAN {name}: {action.summary}",
        "operationId": f"ckan_{name}",
        "description": "Records become a submission (like `POST /v1/submissions`), "
                       "validated before anything is stored: one invalid record refuses "
                       "the whole call (409 `Validation Error`, `rows_rejected`, invalid "
                       "records named in `details`). Needs a key (`Authorization: <key>`).",
        "security": [{"bearer": []}, {"apiKey": []}],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 200}}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF + "CkanDatastoreRequest"},
            "example": WRITE_EXAMPLE}}},
        "responses": {"200": _ok(name, action.result, action.example),
                      **{k: v for k, v in ERRORS.items() if k != "400"},
                      "403": _error("Authorization Error", 403,
                                    "Kunci ini tidak boleh menulis dataset ini.",
                                    "forbidden"),
                      "413": _error("Validation Error", 413,
                                    "Isi permintaan terlalu besar.", "payload_too_large")}}}
