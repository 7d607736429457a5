"""One OpenAPI document for the public API, merged from the services' own documents.

Fetched lazily (and kept ``openapi_ttl`` seconds): each service's ``/openapi.json``, keeping
only the paths the gateway routes to that service (never ``/internal``, ``/healthz``,
``/readyz``), plus the gateway's own routes (exports, events, CKAN). A schema name two services
define differently is renamed ``<service>_<Name>`` in the second one. A service that is down is
listed under ``x-missing-services`` instead of failing the document.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from services.gateway.proxy import route_service
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
                              "content": {"text/event-stream": {"example":
                                  'id: 41\nevent: record\ndata: {"dataset": "jumlah-penduduk"'
                                  ', "seq": 41, ...}\n\n'}}}}}},
}
for action in ("package_list", "package_show", "package_search", "organization_list",
               "datastore_search"):
    GATEWAY_PATHS[f"/api/3/action/{action}"] = {"get": {
        "tags": ["ckan"], "summary": f"CKAN {action}",
        "description": "CKAN-compatible read action (GET query or POST JSON body); the answer "
                       "is `{\"help\", \"success\", \"result\"}`.",
        "responses": {"200": {"description": "CKAN result"}}}}


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
    records = out["paths"].get("/v1/datasets/{slug}/records", {}).get("get")
    for param in (records or {}).get("parameters", []):
        if param.get("name") == "format":  # the gateway adds the XLSX export
            param["schema"] = {"type": "string", "enum": ["json", "csv", "xlsx"],
                               "default": "json"}
            param["description"] = ("json without limit/cursor, csv and xlsx stream every "
                                    "matching record; with limit/cursor json is one page")
    out["paths"].update(GATEWAY_PATHS)
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
