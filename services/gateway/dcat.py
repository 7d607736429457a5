"""The catalogue as DCAT (DCAT-AP 2) in JSON-LD, built from the CKAN packages.

National portals (data.go.id) and other harvesters read ``/catalog.jsonld`` (also
``/dcat.jsonld``): one ``dcat:Catalog`` with a ``dcat:Dataset`` per dataset and a
``dcat:Distribution`` per download (CSV, XLSX). Each dataset's ``dct:spatial`` is the regency
and every region whose code is valid for a bounded time (split, merged, recoded, created):
records stay under the code valid in their period, so a harvester is told, with ``dct:valid``
(a ``dct:PeriodOfTime``: the first and the last day the code is used), when each was in force.

A dataset's verified BPS statistical metadata travels with it: MS-Kegiatan as the activity
that generated it (``prov:wasGeneratedBy``, a ``prov:Activity``), each measure's MS-Variabel or
MS-Indikator as a StatDCAT-AP ``stat:statMeasure`` (label, definition, unit), every form field
under the ``ms:`` namespace with its own name, and ``dct:conformsTo`` naming Peraturan BPS
No. 5 Tahun 2020 when the forms are complete.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "stat": "http://data.europa.eu/(xyz)/statdcat-ap/",
    "qb": "http://purl.org/linked-data/cube#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "dcat:startDate": {"@type": "xsd:date"},
    "dcat:endDate": {"@type": "xsd:date"},
    "dct:issued": {"@type": "xsd:dateTime"},
    "dct:modified": {"@type": "xsd:dateTime"},
    "dcat:downloadURL": {"@type": "@id"},
    "dcat:accessURL": {"@type": "@id"},
    "dcat:landingPage": {"@type": "@id"},
    "dct:accrualPeriodicity": {"@type": "@id"},
    "foaf:homepage": {"@type": "@id"},
}
# EU frequency vocabulary, the one DCAT-AP harvesters understand
FREQUENCIES = {
    "annual": "ANNUAL", "semiannual": "ANNUAL_2", "quarterly": "QUARTERLY",
    "monthly": "MONTHLY", "weekly": "WEEKLY", "daily": "DAILY", "irregular": "IRREG",
}
FREQ_BASE = "http://publications.europa.eu/resource/authority/frequency/"


def locations(base: str, regions: dict[str, dict]) -> list[dict[str, Any]]:
    """The regency, and every region valid for a bounded time with its ``dct:valid``."""
    out = []
    for code, r in sorted(regions.items()):
        bounded = r.get("valid_from") or r.get("valid_until")
        if code.count(".") != 1 and not bounded:
            continue
        loc: dict[str, Any] = {"@id": f"{base}/wilayah/{code}", "@type": "dct:Location",
                               "dct:identifier": code, "skos:prefLabel": r["name"]}
        if bounded:
            loc["dct:valid"] = {"@type": "dct:PeriodOfTime", **(
                {"dcat:startDate": str(r["valid_from"])} if r.get("valid_from") else {}), **(
                {"dcat:endDate": str(date.fromisoformat(str(r["valid_until"]))
                                     - timedelta(days=1))} if r.get("valid_until") else {})}
        out.append(loc)
    return out


def _dataset(base: str, pkg: dict, spatial: list[dict]) -> dict[str, Any]:
    uri = f"{base}/dataset/{pkg['name']}"
    out: dict[str, Any] = {
        "@id": uri, "@type": "dcat:Dataset",
        "dct:identifier": pkg["name"], "dct:title": pkg["title"],
        "dct:description": pkg.get("notes") or pkg["title"],
        "dcat:keyword": [t["name"] for t in pkg["tags"]],
        "dcat:landingPage": pkg["url"],
        "dct:language": "id",
        **({"dct:spatial": spatial} if spatial else {}),
        "dcat:distribution": [
            {"@id": f"{uri}/distribution/{r['format'].lower()}", "@type": "dcat:Distribution",
             "dct:title": r["name"], "dct:format": r["format"],
             "dcat:mediaType": r.get("mimetype") or (
                 "text/csv" if r["format"] == "CSV" else
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             "dcat:accessURL": r["url"], "dcat:downloadURL": r["url"],
             **({"dct:modified": r["last_modified"]} if r.get("last_modified") else {})}
            for r in pkg["resources"]],
    }
    out.update(_statistical(uri, pkg.get("metadata_statistik")))
    if pkg.get("metadata_created"):
        out["dct:issued"] = pkg["metadata_created"]
    if pkg.get("metadata_modified"):
        out["dct:modified"] = pkg["metadata_modified"]
    if pkg.get("topic"):
        out["dcat:theme"] = pkg["topic"]
    if pkg.get("license_id"):
        out["dct:license"] = pkg["license_id"]
    if pkg.get("frequency") in FREQUENCIES:
        out["dct:accrualPeriodicity"] = FREQ_BASE + FREQUENCIES[pkg["frequency"]]
    org = pkg.get("organization")
    if org:
        out["dct:publisher"] = {"@id": f"{base}/organization/{org['name']}",
                                "@type": "foaf:Organization", "foaf:name": org["title"]}
    if pkg.get("maintainer"):
        out["dcat:contactPoint"] = {"@type": "vcard:Organization", "vcard:fn": pkg["maintainer"]}
    return out


def _statistical(uri: str, forms: dict | None) -> dict[str, Any]:
    """MS-Kegiatan as the generating activity, the measures' forms as statistical measures."""
    if not forms:
        return {}
    doc = forms["document"]

    def fields(form: dict) -> dict[str, Any]:
        return {f"ms:{k}": v for k, v in form.items() if k != "jenis"}

    out: dict[str, Any] = {
        "prov:wasGeneratedBy": {"@id": f"{uri}#kegiatan", "@type": "prov:Activity",
                                "dct:type": "MS-Kegiatan", **fields(doc["kegiatan"])},
        "stat:statMeasure": [
            {"@id": f"{uri}#{name}", "@type": "qb:MeasureProperty",
             "dct:identifier": name,
             "dct:type": "MS-Indikator" if meta["jenis"] == "indikator" else "MS-Variabel", **({"rdfs:label": meta["nama"]} if meta.get("nama") else {}),
             **({"skos:definition": meta["definisi"]} if meta.get("definisi") else {}),
             **fields(meta)}
            for name, meta in doc["measures"].items()]}
    if forms["complete"]:
        out["dct:conformsTo"] = {"@type": "dct:Standard", "dct:title":
                                 "Peraturan BPS Nomor 5 Tahun 2020 (metadata statistik)"}
    return out


def catalog(base: str, packages: list[dict], regions: dict[str, dict] | None = None
            ) -> dict[str, Any]:
    spatial = locations(base, regions or {})
    return {
        "@context": {**CONTEXT, "ms": f"{base}/ns/metadata-statistik#"},
        "@id": f"{base}/catalog.jsonld", "@type": "dcat:Catalog",
        "dct:title": "Satu Data Kabupaten Kutai Timur",
        "dct:description": "Katalog data publik Kabupaten Kutai Timur.",
        "dct:language": "id",
        "foaf:homepage": f"{base}/",
        "dct:publisher": {"@type": "foaf:Organization",
                          "foaf:name": "Pemerintah Kabupaten Kutai Timur"},
        "dcat:dataset": [_dataset(base, p, spatial)
                         for p in sorted(packages, key=lambda p: p["name"])],
    }
