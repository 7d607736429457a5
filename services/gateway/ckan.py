"""The CKAN-compatible read actions, answered by the gateway from the registry's routes.

Datasets are CKAN packages (``name`` = slug), publishers are organizations (a package's
organization is its first authoritative publisher), and each package has two resources: CSV
(``id`` = slug, served by ``datastore_search``) and XLSX (``ckan_packages.py``).
``datastore_search`` honours ``sort`` on any field and matches ``q`` against region names as
well as values (each record carries ``region_name``). Which actions exist is
``ckan_actions.ACTIONS``; answers and errors are in CKAN's envelope (``ckan_envelope.py``).
"""

from __future__ import annotations

import json
from typing import Any

from services.gateway.ckan_actions import READS
from services.gateway.ckan_envelope import CkanError
from services.gateway.ckan_packages import apply_sort, organization, package, search, sort_keys
from services.gateway.registry_client import RegistryReads
from services.gateway.upstream import PassThrough
from shared import tabular
from shared.contracts import DatasetSchemaV1, MeasureSpec

CKAN_VERSION = "2.10.4"  # the API level answered: actions and envelopes as in CKAN 2.10


def _withdrawn(exc: PassThrough) -> CkanError:
    error = exc.json().get("error") or {}
    return CkanError(404, "Not Found Error", error.get("message", "Dataset ditarik."),
                     error.get("code", "dataset_retracted"))



def _split_filters(filters: dict, dims: list[str]
                   ) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """CKAN ``filters`` -> the registry's query parameters, and what the gateway matches."""
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
    return query, local


def _datastore_fields(dims: list[str], measures: list[MeasureSpec]) -> list[dict]:
    return [{"id": "_id", "type": "text"}, {"id": "region_code", "type": "text"},
            {"id": "region_name", "type": "text"}, {"id": "region_valid_from", "type": "date"},
            {"id": "region_valid_until", "type": "date"}, {"id": "period", "type": "text"},
            *({"id": d, "type": "text"} for d in dims),
            *({"id": m.name, "type": m.behaviour.ckan_type} for m in measures), {"id": tabular.VERIFICATION, "type": "text"}]


class Ckan:
    def __init__(self, registry: RegistryReads):
        self.registry = registry

    async def packages(self, base: str) -> list[dict]:
        publishers, forms = await self._publishers(), await self._forms()
        return [package(d, base, publishers, forms.get(d["slug"]))
                for d in await self.registry.datasets()]

    async def _forms(self) -> dict[str, dict]:
        """Every dataset's verified statistical metadata, by slug (one call)."""
        return {i["dataset"]: i for i in await self.registry.statistical_metadata()}

    async def _publishers(self) -> dict[str, dict]:
        return {p["id"]: p for p in await self.registry.publishers()}

    async def package_list(self, base: str, params: dict) -> list[str]:
        names = sorted(d["slug"] for d in await self.registry.datasets())
        offset = int(params.get("offset", 0))
        limit = params.get("limit")
        return names[offset:offset + int(limit)] if limit else names[offset:]

    async def package_show(self, base: str, params: dict) -> dict:
        ident = params.get("id") or params.get("name_or_id")
        if not ident:
            raise CkanError(409, "Validation Error", "Parameter id diperlukan.", "missing_id")
        try:
            dataset = await self.registry.dataset(str(ident))
        except PassThrough as exc:
            if exc.status_code == 404:
                raise CkanError(404, "Not Found Error", f"Dataset '{ident}' tidak ada.",
                                "dataset_not_found") from None
            if exc.status_code == 410:  # withdrawn by the walidata: CKAN knows only "not found"
                raise _withdrawn(exc) from None
            raise
        return package(dataset, base, await self._publishers(),
                       (await self._forms()).get(dataset["slug"]))

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
        dataset = await self._resource_dataset(slug)
        schema = DatasetSchemaV1.model_validate(dataset["schema"])
        dims, measures = schema.dimension_names, schema.measures
        query, local = _split_filters(filters, dims)
        fields = _datastore_fields(dims, measures)
        order = sort_keys(str(params.get("sort") or ""))
        unknown = [f for f, _ in order if f not in {x["id"] for x in fields}]
        if unknown:
            raise CkanError(409, "Validation Error",
                            f"Kolom urutan tidak dikenal: {', '.join(map(str, unknown))}.",
                            "invalid_sort")
        regions = await self.regions()
        q = str(params.get("q") or "").lower()
        matched = []
        async for r in self._records(slug, query):
            region = regions.get(r["region_code"], {})
            flat = {"_id": r["id"], "region_code": r["region_code"],
                    "region_name": region.get("name"),
                    "region_valid_from": region.get("valid_from"),
                    "region_valid_until": region.get("valid_until"), "period": r["period"],
                    **{d: r["dimensions"].get(d) for d in dims},
                    **{m.name: tabular.plain(r["values"].get(m.name))
                       for m in measures},
                    tabular.VERIFICATION: tabular.verification_cell(r)}
            if any(str(flat.get(k)) != str(v) for k, v in local.items()):
                continue
            if q and q not in " ".join(str(v) for v in flat.values()).lower():
                continue
            matched.append(flat)
        records = apply_sort(matched, order) if order else matched
        return {"resource_id": slug, "fields": fields, "records": records[offset:offset + limit],
                "total": len(matched), "limit": limit, "offset": offset, "filters": filters,
                "include_total": True, **({"sort": params["sort"]} if order else {}),
                "_links": {"start": f"/api/3/action/datastore_search?resource_id={slug}",
                           "next": f"/api/3/action/datastore_search?resource_id={slug}"
                                   f"&offset={offset + limit}"}}

    async def _resource_dataset(self, slug: str) -> dict:
        try:
            dataset = await self.registry.dataset(slug)
        except PassThrough as exc:
            if exc.status_code == 404:
                raise CkanError(404, "Not Found Error", f"Resource '{slug}' tidak ada.",
                                "resource_not_found") from None
            if exc.status_code == 410:  # withdrawn by the walidata: CKAN knows only "not found"
                raise _withdrawn(exc) from None
            raise
        return dataset

    async def _records(self, slug: str, query: list[tuple[str, str]]):
        """Every record of a dataset matching the registry-side filters, page by page."""
        cursor = None
        while True:
            params = query + [("limit", "1000")] + ([("cursor", cursor)] if cursor else [])
            page = await self.registry.records_page(slug, params)
            for record in page.get("items", []):
                yield record
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def regions(self) -> dict[str, dict]:
        """code -> the region as /v1/regions gives it (name, validity, successor)."""
        return {r["code"]: r for r in await self.registry.regions()}

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

    async def call(self, action: str, base: str, params: dict) -> Any:
        if action not in READS:
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
