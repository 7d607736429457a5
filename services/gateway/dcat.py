"""The catalogue as DCAT (DCAT-AP 2) in JSON-LD, built from the CKAN packages.

National portals (data.go.id) and other harvesters read ``/catalog.jsonld`` (also
``/dcat.jsonld``): one ``dcat:Catalog`` with a ``dcat:Dataset`` per dataset and a
``dcat:Distribution`` per download (CSV, XLSX).
"""

from __future__ import annotations

from typing import Any

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
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


def _dataset(base: str, pkg: dict) -> dict[str, Any]:
    uri = f"{base}/dataset/{pkg['name']}"
    out: dict[str, Any] = {
        "@id": uri, "@type": "dcat:Dataset",
        "dct:identifier": pkg["name"], "dct:title": pkg["title"],
        "dct:description": pkg.get("notes") or pkg["title"],
        "dcat:keyword": [t["name"] for t in pkg["tags"]],
        "dcat:landingPage": pkg["url"],
        "dct:language": "id",
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


def catalog(base: str, packages: list[dict]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@id": f"{base}/catalog.jsonld", "@type": "dcat:Catalog",
        "dct:title": "Satu Data Kabupaten Kutai Timur",
        "dct:description": "Katalog data publik Kabupaten Kutai Timur.",
        "dct:language": "id",
        "foaf:homepage": f"{base}/",
        "dct:publisher": {"@type": "foaf:Organization",
                          "foaf:name": "Pemerintah Kabupaten Kutai Timur"},
        "dcat:dataset": [_dataset(base, p) for p in sorted(packages, key=lambda p: p["name"])],
    }
