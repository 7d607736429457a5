"""CKAN-compatible read API, built from the registry's routes.

Datasets are CKAN packages (``name`` = slug), publishers are organizations (a package's
organization is its first authoritative publisher), and each package has two resources: CSV
(``id`` = slug, served by ``datastore_search``) and XLSX. ``package_search`` matches words
against title, description, tags and slug in the gateway (a regency has hundreds of datasets,
not millions) and supports ``fq`` terms ``field:value`` on organization, tags, topic, frequency
and res_format, ``facet.field`` and ``sort`` (``name``, ``title_string``, ``metadata_modified``,
``metadata_created``; ``asc``/``desc``). ``datastore_search`` honours ``sort`` on any field and
matches ``q`` against region names as well as values (each record carries ``region_name``).

Every ``/api/`` answer is in CKAN's envelope, errors included (``CkanEnvelopeMiddleware``), so
ckanapi raises ``NotFound``, ``NotAuthorized`` and ``ValidationError`` as it does against CKAN.
"""

from __future__ import annotations

import gzip
import json
import re
import shlex
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.upstream import PassThrough, Upstreams
from shared import tabular
from shared.errors import AppError, BadRequest

HELP = "{base}/api/3/action/help_show?name={action}"
FACETABLE = {"organization", "tags", "topic", "frequency", "res_format", "license_id"}
CKAN_VERSION = "2.10.4"  # the API level answered: actions and envelopes as in CKAN 2.10
PACKAGE_SORTS = {"name": "name", "title_string": "title", "title": "title",
                 "metadata_modified": "metadata_modified",
                 "metadata_created": "metadata_created", "score": None}
CKAN_TYPES = {400: "Validation Error", 401: "Authorization Error", 403: "Authorization Error",
              404: "Not Found Error", 405: "Validation Error", 409: "Validation Error",
              413: "Validation Error", 415: "Validation Error", 422: "Validation Error",
              429: "Validation Error"}


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
    ckan_type = getattr(exc, "ckan_type", None) or CKAN_TYPES.get(exc.status_code,
                                                                  "Internal Error")
    return {"help": HELP.format(base=base, action=action), "success": False,
            "error": {"__type": ckan_type, "message": exc.message, "code": exc.code,
                      "details": exc.details}}


def envelope_error_body(base: str, path: str, status: int, body: dict) -> dict:
    """The platform's ``{"error": {code, message, details}}`` inside CKAN's envelope."""
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    exc = AppError(str(error.get("message") or "Permintaan gagal."),
                   code=str(error.get("code") or "error"), details=error.get("details") or [])
    exc.status_code = status
    return error_envelope(base, path.rstrip("/").rsplit("/", 1)[-1], exc)


class CkanEnvelopeMiddleware:
    """Every error answer on ``/api/`` in CKAN's envelope, whoever produced it: the gateway's
    own 401/404/405/413/429/5xx, a refused key, an upstream's platform-shaped error. Answers
    already in CKAN's shape (``success`` present) and successful answers pass untouched, and
    only error bodies (small) are buffered."""

    def __init__(self, app: ASGIApp):
        self.app = app

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
                host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
                base = f"{scope.get('scheme', 'http')}://{host}" if host else ""
                body = envelope_error_body(base, scope["path"], start["status"],
                                           body if isinstance(body, dict) else {})
            raw = json.dumps(body).encode()
            headers = [(k, v) for k, v in start.get("headers", [])
                       if k.lower() not in (b"content-length", b"content-type",
                                            b"content-encoding")]
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(raw)).encode())]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": raw})

        await self.app(scope, receive, wrapped)


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


def sort_keys(sort: str, allowed: dict[str, str | None] | None = None
              ) -> list[tuple[str | None, bool]]:
    """``"a desc, b asc"`` -> ``[(field, descending), ...]``; a field outside ``allowed``
    (when given) is a validation error, as in CKAN."""
    keys = []
    for part in (p.strip() for p in sort.split(",") if p.strip()):
        field, _, direction = part.partition(" ")
        direction = direction.strip().lower() or "asc"
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Arah urutan '{direction}' tidak dikenal; pakai asc atau desc.",
                             code="invalid_sort", details=[{"field": "sort", "value": part}])
        if allowed is not None:
            if field not in allowed:
                raise BadRequest(f"Tidak bisa mengurutkan menurut '{field}'.",
                                 code="invalid_sort",
                                 details=[{"field": "sort", "allowed": sorted(allowed)}])
            field = allowed[field]
        keys.append((field, direction == "desc"))
    return keys


def apply_sort(items: list[dict], keys: list[tuple[str | None, bool]]) -> list[dict]:
    """Stable multi-key sort; missing values last whatever the direction."""
    for field, descending in reversed(keys):
        if field is None:
            continue
        present = [i for i in items if i.get(field) is not None]
        absent = [i for i in items if i.get(field) is None]
        present.sort(key=lambda i: _sortable(i[field]), reverse=descending)
        items = present + absent
    return items


def _sortable(value: Any) -> tuple:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, str(value).lower())


def search(packages: list[dict], *, q: str, fq: str, rows: int, start: int,
           facet_fields: list[str], sort: str = "") -> dict:
    found = [p for p in packages if _matches_q(p, q) and _matches_fq(p, fq)]
    if sort:
        found = apply_sort(found, sort_keys(sort, PACKAGE_SORTS))
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
    return {"count": len(found), "sort": sort or "score desc, metadata_modified desc",
            "results": found[start:start + rows], "facets": facets,
            "search_facets": search_facets}


class Ckan:
    def __init__(self, upstreams: Upstreams):
        self.upstreams = upstreams

    async def packages(self, base: str) -> list[dict]:
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
        return search(await self.packages(base), q=str(params.get("q") or ""),
                      fq=str(params.get("fq") or ""), rows=min(int(params.get("rows", 10)), 1000),
                      start=int(params.get("start", 0)), facet_fields=list(facet_fields),
                      sort=str(params.get("sort") or ""))

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
                  {"id": "region_name", "type": "text"}, {"id": "period", "type": "text"},
                  *({"id": d, "type": "text"} for d in dims),
                  *({"id": m["name"], "type": "numeric" if m.get("type") != "text" else "text"}
                    for m in measures)]
        names = await self._region_names()
        order = sort_keys(str(params.get("sort") or ""))
        unknown = [f for f, _ in order if f not in {x["id"] for x in fields}]
        if unknown:
            raise CkanError(409, "Validation Error",
                            f"Kolom urutan tidak dikenal: {', '.join(map(str, unknown))}.",
                            "invalid_sort")
        matched: list[dict] = []
        records, total, cursor = [], 0, None
        while True:
            params_ = query + [("limit", "1000")] + ([("cursor", cursor)] if cursor else [])
            _, page = await self.upstreams.get_json(
                "registry", f"/v1/datasets/{quote(slug)}/records", params=params_)
            for r in page.get("items", []):
                flat = {"_id": r["id"], "region_code": r["region_code"],
                        "region_name": names.get(r["region_code"]), "period": r["period"],
                        **{d: r["dimensions"].get(d) for d in dims},
                        **{m["name"]: tabular.plain(r["values"].get(m["name"]))  # issue 19
                           for m in measures}}
                if any(str(flat.get(k)) != str(v) for k, v in local.items()):
                    continue
                if q and q not in " ".join(str(v) for v in flat.values()).lower():
                    continue
                if order:
                    matched.append(flat)
                elif offset <= total < offset + limit:
                    records.append(flat)
                total += 1
            cursor = page.get("next_cursor")
            if not cursor:
                break
        if order:
            records = apply_sort(matched, order)[offset:offset + limit]
        return {"resource_id": slug, "fields": fields, "records": records, "total": total,
                "limit": limit, "offset": offset, "filters": filters, "include_total": True,
                **({"sort": params["sort"]} if order else {}),
                "_links": {"start": f"/api/3/action/datastore_search?resource_id={slug}",
                           "next": f"/api/3/action/datastore_search?resource_id={slug}"
                                   f"&offset={offset + limit}"}}

    async def _region_names(self) -> dict[str, str]:
        _, body = await self.upstreams.get_json("registry", "/v1/regions")
        return {r["code"]: r["name"] for r in body.get("items", [])}

    async def organization_show(self, base: str, params: dict) -> dict:
        ident = str(params.get("id") or "")
        if not ident:
            raise CkanError(409, "Validation Error", "Parameter id diperlukan.", "missing_id")
        publisher = (await self._publishers()).get(ident)
        if publisher is None:
            raise CkanError(404, "Not Found Error", f"Organisasi '{ident}' tidak ada.",
                            "organization_not_found")
        org = organization(publisher)
        if str(params.get("include_datasets", "false")).lower() in ("true", "1"):
            packages = [p for p in await self.packages(base) if p["owner_org"] == ident]
            org["packages"] = packages
        org["package_count"] = len([d for d in publisher.get("datasets") or []])
        return org

    async def resource_show(self, base: str, params: dict) -> dict:
        ident = str(params.get("id") or "")
        if not ident:
            raise CkanError(409, "Validation Error", "Parameter id diperlukan.", "missing_id")
        slug = ident.removesuffix("-xlsx")
        try:
            pkg = await self.package_show(base, {"id": slug})
        except CkanError as exc:
            if exc.status_code == 404:
                raise CkanError(404, "Not Found Error", f"Resource '{ident}' tidak ada.",
                                "resource_not_found") from None
            raise
        return next(r for r in pkg["resources"] if r["id"] == ident)

    async def tag_list(self, base: str, params: dict) -> list:
        tags = sorted({t["name"] for p in await self.packages(base) for t in p["tags"]})
        query = str(params.get("query") or "").lower()
        tags = [t for t in tags if query in t.lower()]
        if str(params.get("all_fields", "false")).lower() in ("true", "1"):
            return [{"id": t, "name": t, "display_name": t, "vocabulary_id": None} for t in tags]
        return tags

    async def group_list(self, base: str, params: dict) -> list:
        """Groups are the datasets' topics."""
        counts: dict[str, int] = {}
        for pkg in await self.packages(base):
            if pkg.get("topic"):
                counts[pkg["topic"]] = counts.get(pkg["topic"], 0) + 1
        if str(params.get("all_fields", "false")).lower() in ("true", "1"):
            return [{"id": t, "name": t, "title": t, "display_name": t, "type": "group",
                     "state": "active", "is_organization": False, "package_count": n}
                    for t, n in sorted(counts.items())]
        return sorted(counts)

    async def status_show(self, base: str, params: dict) -> dict:
        return {"site_title": "Satu Data Kabupaten Kutai Timur", "site_url": base,
                "site_description": "Portal data publik Kabupaten Kutai Timur",
                "ckan_version": CKAN_VERSION, "locale_default": "id",
                "extensions": ["datastore", "dcat"]}

    ACTIONS = ("package_list", "package_show", "package_search", "organization_list",
               "organization_show", "resource_show", "tag_list", "group_list", "status_show",
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
            raise CkanError(404, "Not Found Error", "Data tidak ditemukan.", "not_found") \
                if exc.status_code == 404 else CkanError(exc.status_code, "Validation Error",
                               str(exc.json().get("error", {}).get("message", exc)),
                               "upstream_refused") from None
