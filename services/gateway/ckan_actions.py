"""Every CKAN action the gateway answers, in one table: what it does, its parameters, its result
and an example (the OpenAPI document is built from it, ``openapi_ckan.py``), and who answers it:
the gateway itself (reads, ``ckan.py``) or ingest (``datastore_create``/``datastore_upsert``,
which the manifest routes there). Adding an action is one entry here and, for a read, a method
of the same name on ``ckan.Ckan``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REF = "#/components/schemas/"


@dataclass(frozen=True)
class Action:
    summary: str
    params: list = field(default_factory=list)
    result: dict = field(default_factory=dict)   # JSON schema of ``result`` in the envelope
    example: Any = None
    service: str = "gateway"                     # "ingest": a write forwarded to ingest


def _q(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            **({"description": description} if description else {})}



STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
LIST = {"type": "array", "items": {"type": "string"}}
PKG = {
    "id": "jumlah-penduduk", "name": "jumlah-penduduk",
    "title": "Jumlah Penduduk menurut Desa dan Jenis Kelamin",
    "notes": "Jumlah penduduk per desa/kelurahan.", "type": "dataset", "state": "active",
    "license_id": "CC-BY-4.0", "frequency": "annual", "topic": "kependudukan",
    "owner_org": "disdukcapil",
    "organization": {"id": "disdukcapil", "name": "disdukcapil",
                     "title": "Dinas Kependudukan dan Pencatatan Sipil",
                     "type": "organization", "is_organization": True},
    "tags": [{"name": "penduduk", "display_name": "penduduk"}], "num_tags": 1,
    "resources": [{"id": "jumlah-penduduk", "package_id": "jumlah-penduduk",
                   "format": "CSV", "datastore_active": True,
                   "url": "https://data.kutaitimurkab.go.id/v1/datasets/jumlah-penduduk/"
                          "records?format=csv"}],
    "num_resources": 2}
RESOURCE = PKG["resources"][0]
ORG = {**PKG["organization"], "state": "active", "region_scope": "64.08", "package_count": 1}
RECORDS = {"resource_id": "jumlah-penduduk", "total": 2, "limit": 2, "offset": 0,
           "sort": "jumlah desc",
           "fields": [{"id": "_id", "type": "text"}, {"id": "region_code", "type": "text"},
                      {"id": "region_name", "type": "text"}, {"id": "period", "type": "text"},
                      {"id": "jenis_kelamin", "type": "text"}, {"id": "jumlah",
                                                                 "type": "numeric"}],
           "records": [{"_id": "0b6f7c1e-2f55-4d0a-9a51-3b8f0e0c2a11",
                        "region_code": "64.08.04.2001", "region_name": "Sangatta Utara",
                        "period": "2024", "jenis_kelamin": "L", "jumlah": 2315}]}

# action: (summary, parameters, result schema, result example)

# action: (summary, parameters, result schema, result example)
_READS: dict[str, tuple[str, list, dict, Any]] = {
    "package_list": ("Daftar nama dataset", [_q("limit", INT), _q("offset", INT)], LIST,
                     ["jumlah-penduduk"]),
    "package_show": ("Satu dataset", [_q("id", STR, "dataset slug", True)],
                     {"$ref": REF + "CkanPackage"}, PKG),
    "package_search": ("Cari dataset", [
        _q("q", STR, "all words in title, description, tags, slug, topic"),
        _q("fq", STR, "organization:, tags:, topic:, frequency:, res_format:, license_id:, "
                      "name:"),
        _q("rows", INT), _q("start", INT),
        _q("sort", STR, "name, title_string, metadata_modified, metadata_created, score; "
                        "asc/desc"),
        _q("facet.field", STR, 'JSON list, e.g. ["organization","tags"]')],
        {"$ref": REF + "CkanSearchResult"},
        {"count": 1, "sort": "metadata_modified desc", "results": [PKG],
         "facets": {"organization": {"disdukcapil": 1}}}),
    "organization_list": ("Daftar organisasi (produsen data)", [_q("all_fields", BOOL)],
                          {"type": "array", "items": {"anyOf": [
                              STR, {"$ref": REF + "CkanOrganization"}]}},
                          ["disdukcapil", "walidata"]),
    "organization_show": ("Satu organisasi", [_q("id", STR, "publisher id", True),
                                              _q("include_datasets", BOOL)],
                          {"$ref": REF + "CkanOrganization"}, ORG),
    "resource_show": ("Satu resource (unduhan CSV/XLSX)", [
        _q("id", STR, "dataset slug (CSV) or <slug>-xlsx", True)],
        {"$ref": REF + "CkanResource"}, RESOURCE),
    "tag_list": ("Daftar tag", [_q("query", STR), _q("all_fields", BOOL)], LIST,
                 ["penduduk", "kependudukan"]),
    "group_list": ("Daftar grup (topik)", [_q("all_fields", BOOL)],
                   {"type": "array", "items": {"anyOf": [STR, {"$ref": REF + "CkanGroup"}]}},
                   ["kependudukan"]),
    "status_show": ("Status dan versi API", [], {"$ref": REF + "CkanStatus"},
                    {"site_title": "Satu Data Kabupaten Kutai Timur", "ckan_version": "2.10.4",
                     "locale_default": "id", "extensions": ["datastore", "dcat"]}),
    "datastore_search": ("Baca rekaman satu resource", [
        _q("resource_id", STR, "dataset slug", True),
        _q("filters", STR, 'JSON object, e.g. {"jenis_kelamin": "P", "period": "2024"}'),
        _q("q", STR, "substring of any value, region names included"),
        _q("sort", STR, 'e.g. "jumlah desc, region_code asc"'),
        _q("limit", INT), _q("offset", INT)],
        {"$ref": REF + "CkanDatastoreResult"}, RECORDS),
}
WRITE_EXAMPLE = {"resource_id": "jumlah-penduduk", "method": "upsert", "records": [
    {"region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "L", "jumlah": 2315}]}
WRITE_RESULT = {"resource_id": "jumlah-penduduk", "method": "upsert", "dataset":
                "jumlah-penduduk", "records_count": 1,
                "submission_id": "5d1c1f0e-8a1b-4a57-9f0e-0c2b7a3c9d10", "status": "received",
                "status_url": "/v1/submissions/5d1c1f0e-8a1b-4a57-9f0e-0c2b7a3c9d10",
                "warnings": []}



ACTIONS: dict[str, Action] = {
    **{name: Action(*spec) for name, spec in _READS.items()},
    "datastore_upsert": Action("Kirim rekaman (menjadi kiriman)",
                               result={"$ref": REF + "CkanDatastoreWriteResult"},
                               example=WRITE_RESULT, service="ingest"),
    "datastore_create": Action("Buat/isi resource (menjadi kiriman)",
                               result={"$ref": REF + "CkanDatastoreWriteResult"},
                               example=WRITE_RESULT, service="ingest"),
}
READS = frozenset(n for n, a in ACTIONS.items() if a.service == "gateway")
WRITES = frozenset(n for n, a in ACTIONS.items() if a.service != "gateway")
PREFIXES = ("/api/3/action", "/api/action")  # ckanapi posts to /api/action
