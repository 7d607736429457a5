"""A region's validity travels with its figures: after a split dated 2025-01-01 (sample data,
contoh), a 2023 figure of the old village says in the CSV and XLSX exports, in CKAN's
datastore_search and in the DCAT catalogue since when its code is no longer used; its
successors say since when theirs is."""

from __future__ import annotations

import csv
import io
import json

import httpx
from openpyxl import load_workbook

from services.registry.publishing import apply as registry_apply
from tests.integration.registry.test_region_changes import CHANGES, DATED, PARTS, SPLIT

SLUG = "jumlah-penduduk"


async def test_exports_ckan_and_dcat_carry_the_regions_validity(stack):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        r = await client.post("/v1/regions/import", headers=stack["walidata"],
                              json={"rows": CHANGES, "sample": True})
        assert r.status_code == 200, r.text
        async with stack["pool"].acquire() as conn, conn.transaction():
            await registry_apply.apply_rows(conn, dataset_slug=SLUG, publisher_id="disdukcapil",
                                            rows=[{"region": SPLIT, "period": "2023",
                                                   "jenis_kelamin": "L", "jumlah": 120},
                                                  {"region": PARTS[0], "period": "2025",
                                                   "jenis_kelamin": "L", "jumlah": 70}])
        url = f"/v1/datasets/{SLUG}/records"
        exported = await client.get(url, params={"format": "csv", "region": "64.08.03"})
        xlsx = await client.get(url, params={"format": "xlsx", "region": "64.08.03"})
        ckan = (await client.get("/api/3/action/datastore_search", params={
            "resource_id": SLUG, "filters": json.dumps({"region_code": SPLIT})})).json()
        catalog = (await client.get("/catalog.jsonld")).json()

    rows = {r["kode_wilayah"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert (rows[SPLIT]["wilayah_berlaku_mulai"],
            rows[SPLIT]["wilayah_tidak_berlaku_sejak"]) == ("", DATED)
    assert (rows[PARTS[0]]["wilayah_berlaku_mulai"],
            rows[PARTS[0]]["wilayah_tidak_berlaku_sejak"]) == (DATED, "")
    sheet = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    at = sheet[0].index("wilayah_tidak_berlaku_sejak")
    assert {row[0]: row[at] for row in sheet[1:]}[SPLIT] == DATED

    records = ckan["result"]["records"]
    assert "2023" in {r["period"] for r in records}
    assert {(r["region_code"], r["region_valid_from"], r["region_valid_until"])
            for r in records} == {(SPLIT, None, DATED)}
    assert {"id": "region_valid_until", "type": "date"} in ckan["result"]["fields"]

    [dataset] = [d for d in catalog["dcat:dataset"] if d["dct:identifier"] == SLUG]
    spatial = {loc["dct:identifier"]: loc for loc in dataset["dct:spatial"]}
    assert "dct:valid" not in spatial["64.08"]                    # the regency: always
    assert spatial[SPLIT]["dct:valid"] == {"@type": "dct:PeriodOfTime",
                                           "dcat:endDate": "2024-12-31"}  # its last day
    assert spatial[PARTS[0]]["dct:valid"]["dcat:startDate"] == DATED
    assert spatial[PARTS[0]]["@id"].endswith(f"/wilayah/{PARTS[0]}")
