"""CKAN-compatible read API, built from the registry's routes.

Datasets are CKAN packages (``name`` = slug), publishers are organizations (a package's
organization is its first authoritative publisher), and each package has two resources: CSV
(``id`` = slug, served by ``datastore_search``) and XLSX. ``package_search`` matches words
against title, description, tags and slug in the gateway (a regency has hundreds of datasets,
not millions) and supports ``fq`` terms ``field:value`` on organization, tags, topic, frequency
and res_format, plus ``facet.field``.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any
from urllib.parse import quote

from services.gateway.upstream import PassThrough, Upstreams
from shared.errors import AppError, BadRequest, NotFound

HELP = "{base}/api/3/action/help_show?name={action}"
FACETABLE = {"organization", "tags", "topic", "frequency", "res_format", "license_id"}


class CkanError(AppError):
    """Answered in CKAN's shape (``success: false``), the one error shape inside it."""

    def __init__(self, status: int, ckan_type: str, message: str, code: str):
        super().__init__(message, code=code)
        self.status_code = status
        self.ckan_type = ckan_type


def _withdrawn(exc: PassThrough) -> CkanError:
    error = exc.json().get("error") or {}
    return CkanError(404, "Not Found Error", error.get("message", "Dataset ditarik."),
                     error.get("code", "dataset_retracted"))


def envelope(base: str, action: str, result: Any) -> dict:
    return {"help": HELP.format(base=base, action=action), "success": True, "result": result}


def error_envelope(base: str, action: str, exc: AppError) -> dict:
    ckan_type = getattr(exc, "ckan_type", None) or {
        400: "Validation Error", 401: "Authorization Error", 403: "Authorization Error",
        404: "Not Found Error", 409: "Validation Error"}.get(exc.status_code, "Internal Error")
    return {"help": HELP.format(base=base, action=action), "success": False,
            "error": {"__type": ckan_type, "message": exc.message, "code": exc.code,
                      "details": exc.details}}


def package(dataset: dict, base: str, publishers: dict[str, dict]) -> dict:
    slug = dataset["slug"]
    org_id = (dataset.get("authoritative") or [None])[0]
    org = publishers.get(org_id) if org_id else None
    meta = dataset.get("metadata") or {}
    resources = [
        {"id": slug, "package_id": slug, "name": f"{dataset['title']} (CSV)", "format": "CSV",
         "mimetype": "text/csv", "url": f"{base}/v1/datasets/{quote(slug)}/records?format=csv",
         "datastore_active": True, "position": 0, "state": "active",
         "last_modified": dataset.get("updated_at")},
        {"id": f"{slug}-xlsx", "package_id": slug, "name": f"{dataset['title']} (XLSX)",
         "format": "XLSX", "url": f"{base}/v1/datasets/{quote(slug)}/records?format=xlsx",
         "datastore_active": False, "position": 1, "state": "active",
         "last_modified": dataset.get("updated_at")},
    ]
    return {
        "id": slug, "name": slug, "title": dataset["title"], "notes": dataset.get("description"),
        "type": "dataset", "state": "active", "private": False,
        "license_id": dataset.get("license"), "license_title": dataset.get("license"),
        "metadata_created": dataset.get("created_at"),
        "metadata_modified": dataset.get("updated_at"),
        "version": str(dataset.get("version", "")), "frequency": dataset.get("frequency"),
        "topic": dataset.get("topic"),
        "author": meta.get("produsen_data"), "maintainer": meta.get("walidata"),
        "owner_org": org_id,
        "organization": organization(org) if org else None,
        "tags": [{"name": t, "display_name": t} for t in dataset.get("tags", [])],
        "num_tags": len(dataset.get("tags", [])),
        "groups": ([{"name": dataset["topic"], "title": dataset["topic"]}]
                   if dataset.get("topic") else []),
        "resources": resources, "num_resources": len(resources),
        "extras": [{"key": k, "value": v if isinstance(v, str) else json.dumps(v)}
                   for k, v in meta.items()],
        "url": f"{base}/#/dataset/{quote(slug)}",
    }


def organization(p: dict) -> dict:
    return {"id": p["id"], "name": p["id"], "title": p["name"], "type": "organization",
            "state": "active", "is_organization": True, "description": p.get("kind", ""),
            "region_scope": p.get("region_scope")}


def _facet_values(pkg: dict, field: str) -> list[str]:
    if field == "organization":
        return [pkg["owner_org"]] if pkg["owner_org"] else []
    if field == "tags":
        return [t["name"] for t in pkg["tags"]]
    if field == "res_format":
        return sorted({r["format"] for r in pkg["resources"]})
    value = pkg.get(field)
    return [value] if value else []


def _matches_fq(pkg: dict, fq: str) -> bool:
    try:
        terms = shlex.split(fq)
    except ValueError as exc:
        raise BadRequest(f"fq tidak valid: {exc}", code="invalid_fq") from exc
    for term in terms:
        if term in ("AND", "+"):
            continue
        field, _, value = term.lstrip("+").partition(":")
        value = value.strip('"')
        if field == "name":
            if pkg["name"] != value:
                return False
        elif field in FACETABLE:
            if value not in _facet_values(pkg, field):
                return False
        elif field not in ("dataset_type", "state", "capacity", "type"):
            raise BadRequest(f"Kolom fq '{field}' tidak didukung.", code="unsupported_fq")
    return True


def _matches_q(pkg: dict, q: str) -> bool:
    if not q or q.strip() in ("*:*", "*"):
        return True
    haystack = " ".join([pkg["name"], pkg["title"] or "", pkg["notes"] or "",
                         *(t["name"] for t in pkg["tags"]), pkg.get("topic") or ""]).lower()
    return all(word in haystack for word in re.findall(r"\w+", q.lower()))


def search(packages: list[dict], *, q: str, fq: str, rows: int, start: int,
           facet_fields: list[str]) -> dict:
    found = [p for p in packages if _matches_q(p, q) and _matches_fq(p, fq)]
    facets: dict[str, dict[str, int]] = {}
    for field in facet_fields:
        counts: dict[str, int] = {}
        for pkg in found:
            for value in _facet_values(pkg, field):
                counts[value] = counts.get(value, 0) + 1
        facets[field] = counts
    search_facets = {f: {"title": f, "items": [{"name": k, "display_name": k, "count": v}
                                               for k, v in sorted(c.items())]}
                     for f, c in facets.items()}
    return {"count": len(found), "sort": "score desc, metadata_modified desc",
            "results": found[start:start + rows], "facets": facets,
            "search_facets": search_facets}


class Ckan:
    def __init__(self, upstreams: Upstreams):
        self.upstreams = upstreams

    async def _packages(self, base: str) -> list[dict]:
        _, datasets = await self.upstreams.get_json("registry", "/v1/datasets")
        publishers = await self._publishers()
        return [package(d, base, publishers) for d in datasets.get("items", [])]

    async def _publishers(self) -> dict[str, dict]:
        _, body = await self.upstreams.get_json("registry", "/v1/publishers")
        return {p["id"]: p for p in body.get("items", [])}

    async def package_list(self, base: str, params: dict) -> list[str]:
        _, datasets = await self.upstreams.get_json("registry", "/v1/datasets")
        names = sorted(d["slug"] for d in datasets.get("items", []))
        offset = int(params.get("offset", 0))
        limit = params.get("limit")
        return names[offset:offset + int(limit)] if limit else names[offset:]

    async def package_show(self, base: str, params: dict) -> dict:
        ident = params.get("id") or params.get("name_or_id")
        if not ident:
            raise CkanError(409, "Validation Error", "Parameter id diperlukan.", "missing_id")
        try:
            _, dataset = await self.upstreams.get_json("registry",
                                                       f"/v1/datasets/{quote(str(ident))}")
        except PassThrough as exc:
            if exc.status_code == 404:
                raise CkanError(404, "Not Found Error", f"Dataset '{ident}' tidak ada.",
                                "dataset_not_found") from None
            if exc.status_code == 410:  # withdrawn by the walidata: CKAN knows only "not found"
                raise _withdrawn(exc) from None
            raise
        return package(dataset, base, await self._publishers())

    async def package_search(self, base: str, params: dict) -> dict:
        facet_fields = params.get("facet.field") or []
        if isinstance(facet_fields, str):
            facet_fields = json.loads(facet_fields) if facet_fields.startswith("[") \
                else [facet_fields]
        return search(await self._packages(base), q=str(params.get("q") or ""),
                      fq=str(params.get("fq") or ""), rows=min(int(params.get("rows", 10)), 1000),
                      start=int(params.get("start", 0)), facet_fields=list(facet_fields))

    async def organization_list(self, base: str, params: dict) -> list:
        publishers = sorted((await self._publishers()).values(), key=lambda p: p["id"])
        all_fields = str(params.get("all_fields", "false")).lower() in ("true", "1")
        return [organization(p) for p in publishers] if all_fields \
            else [p["id"] for p in publishers]

    async def datastore_search(self, base: str, params: dict) -> dict:
        slug = params.get("resource_id") or params.get("id")
        if not slug:
            raise CkanError(409, "Validation Error", "Parameter resource_id diperlukan.",
                            "missing_resource_id")
        limit = min(int(params.get("limit", 100)), 32_000)
        offset = int(params.get("offset", 0))
        filters = params.get("filters") or {}
        if isinstance(filters, str):
            filters = json.loads(filters)
        q = str(params.get("q") or "").lower()
        try:
            _, dataset = await self.upstreams.get_json("registry", f"/v1/datasets/{quote(slug)}")
        except PassThrough as exc:
            if exc.status_code == 404:
                raise CkanError(404, "Not Found Error", f"Resource '{slug}' tidak ada.",
                                "resource_not_found") from None
            if exc.status_code == 410:  # withdrawn by the walidata: CKAN knows only "not found"
                raise _withdrawn(exc) from None
            raise
        schema = dataset.get("schema") or {}
        dims = [d["name"] for d in schema.get("dimensions", [])]
        measures = schema.get("measures", [])
        query: list[tuple[str, str]] = []
        local: dict[str, Any] = {}
        for key, value in filters.items():
            if key in ("region_code", "region"):
                query.append(("region", str(value)))
            elif key == "period":
                query += [("period_from", str(value)), ("period_to", str(value))]
            elif key in dims:
                query.append((key, str(value)))
            else:
                local[key] = value
        fields = [{"id": "_id", "type": "text"}, {"id": "region_code", "type": "text"},
                  {"id": "period", "type": "text"},
                  *({"id": d, "type": "text"} for d in dims),
                  *({"id": m["name"], "type": "numeric" if m.get("type") != "text" else "text"}
                    for m in measures)]
        records, total, cursor = [], 0, None
        while True:
            params_ = query + [("limit", "1000")] + ([("cursor", cursor)] if cursor else [])
            _, page = await self.upstreams.get_json(
                "registry", f"/v1/datasets/{quote(slug)}/records", params=params_)
            for r in page.get("items", []):
                flat = {"_id": r["id"], "region_code": r["region_code"], "period": r["period"],
                        **{d: r["dimensions"].get(d) for d in dims},
                        **{m["name"]: r["values"].get(m["name"]) for m in measures}}
                if any(str(flat.get(k)) != str(v) for k, v in local.items()):
                    continue
                if q and q not in " ".join(str(v) for v in flat.values()).lower():
                    continue
                if offset <= total < offset + limit:
                    records.append(flat)
                total += 1
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return {"resource_id": slug, "fields": fields, "records": records, "total": total,
                "limit": limit, "offset": offset, "filters": filters, "include_total": True,
                "_links": {"start": f"/api/3/action/datastore_search?resource_id={slug}",
                           "next": f"/api/3/action/datastore_search?resource_id={slug}"
                                   f"&offset={offset + limit}"}}

    ACTIONS = ("package_list", "package_show", "package_search", "organization_list",
               "datastore_search")

    async def call(self, action: str, base: str, params: dict) -> Any:
        if action not in self.ACTIONS:
            raise CkanError(400, "Bad request - Action name not known",
                            f"Aksi '{action}' tidak tersedia.", "unknown_action")
        try:
            return await getattr(self, action)(base, params)
        except (ValueError, TypeError) as exc:
            raise CkanError(409, "Validation Error", f"Parameter tidak valid: {exc}",
                            "invalid_parameter") from None
        except PassThrough as exc:
            raise NotFound("Data tidak ditemukan.", code="not_found") if exc.status_code == 404 \
                else CkanError(exc.status_code, "Validation Error",
                               str(exc.json().get("error", {}).get("message", exc)),
                               "upstream_refused") from None
