"""CKAN packages and organizations built from the registry's datasets and publishers, and
``package_search`` over them (pure functions: no I/O).

``package_search`` matches words against title, description, tags and slug in the gateway (a
regency has hundreds of datasets, not millions) and supports ``fq`` terms ``field:value`` on
organization, tags, topic, frequency and res_format, ``facet.field`` and ``sort`` (``name``,
``title_string``, ``metadata_modified``, ``metadata_created``; ``asc``/``desc``).
"""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from services.gateway import currency
from shared.errors import BadRequest

FACETABLE = {"organization", "tags", "topic", "frequency", "res_format", "license_id"}
PACKAGE_SORTS = {"id": "id", "name": "name", "title_string": "title", "title": "title",
                 "metadata_modified": "metadata_modified",
                 "metadata_created": "metadata_created", "score": None}


# The registry's dataset fields this module places in CKAN's own fields (or, for ``schema``,
# in the DataStore's fields; a retraction ends the package, ``ckan.py``). Any other field,
# one added to the dataset later included, is a CKAN extra under its own name: what CKAN does
# with a field its core schema lacks, and what harvesters copy.
PLACED = frozenset({
    "slug", "title", "description", "license", "created_at", "updated_at", "last_updated",
    "version", "frequency", "topic", "tags", "authoritative", "metadata", "schema",
    "currency", "retracted_at", "retraction_reason"})


def _extra(key: str, value: Any) -> dict:
    return {"key": key, "value": value if isinstance(value, str) else json.dumps(
        value, ensure_ascii=False)}


def statistical_extras(forms: dict | None) -> list[dict]:
    """The BPS statistical metadata as CKAN extras (flat key/value, which harvesters copy):
    its version and completeness, MS-Kegiatan, and each measure's MS-Variabel/MS-Indikator."""
    if not forms or not forms.get("document"):
        return []
    doc = forms["document"]
    return [{"key": "metadata_statistik_versi", "value": str(forms["version"])},
            {"key": "metadata_statistik_lengkap", "value": "ya" if forms["complete"] else
             "belum: " + ", ".join(forms["missing"])},
            {"key": "ms_kegiatan", "value": json.dumps(doc["kegiatan"], ensure_ascii=False)},
            *({"key": f"ms_{meta['jenis']}.{name}",
               "value": json.dumps(meta, ensure_ascii=False)}
              for name, meta in doc["measures"].items())]


def package(dataset: dict, base: str, publishers: dict[str, dict],
            forms: dict | None = None) -> dict:
    """``forms``: the dataset's verified statistical metadata (registry
    ``/v1/statistical-metadata``), carried in ``metadata_statistik`` and the extras."""
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
        "metadata_modified": modified(dataset),
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
        "extras": [*(_extra(k, v) for k, v in meta.items()),
                   *(_extra(k, v) for k, v in dataset.items()
                     if k not in PLACED and k not in meta and v is not None),
                   *statistical_extras(forms)],
        **({"metadata_statistik": {
            **{k: forms[k] for k in ("version", "complete", "missing", "document")},
            "url": f"{base}/v1/datasets/{quote(slug)}/statistical-metadata",
            "xlsx": f"{base}/v1/datasets/{quote(slug)}/statistical-metadata?format=xlsx"}}
           if forms and forms.get("document") else {}),
        "url": f"{base}/#/dataset/{quote(slug)}",
        **currency.package_fields(dataset),  # "mutakhir" / "terlambat ..." (timeliness)
    }


def modified(dataset: dict) -> str | None:
    """When the dataset's metadata or data last changed (the later of ``updated_at`` and the
    newest period's ``last_updated``): what a harvester's ``metadata_modified`` range reads."""
    times = [t for t in (dataset.get("updated_at"), dataset.get("last_updated")) if t]
    return max(times, key=_instant) if times else None


def _instant(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(
        str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


_RANGE = re.compile(r"\+?(metadata_modified|metadata_created):\[(\S+) TO (\S+)\]")


def _in_range(pkg: dict, field: str, low: str, high: str) -> bool:
    """Solr's ``field:[low TO high]`` on a date (``*`` is open), as CKAN answers it."""
    value = pkg.get(field)
    if value is None:
        return False
    try:
        at = _instant(value)
        return ((low == "*" or at >= _instant(low)) and (high == "*" or at <= _instant(high)))
    except ValueError as exc:
        raise BadRequest(f"Rentang tanggal tidak valid di fq: {low} TO {high}.",
                         code="invalid_fq") from exc


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
    for field, low, high in _RANGE.findall(fq):  # ckanext-harvest: modified since its last run
        if not _in_range(pkg, field, low, high):
            return False
    fq = _RANGE.sub(" ", fq)
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
