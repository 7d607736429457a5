"""The sample dataset's (contoh) BPS statistical metadata, submitted by its producer's key and
verified by the walidata's through the gateway, travels to CKAN (package_show and
package_search: ``metadata_statistik`` and the extras), DCAT (the generating activity and the
measures' forms) and the BPS-layout workbook; before it is verified none of them shows it."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from openpyxl import load_workbook

SLUG = "jumlah-penduduk"
FORMS = {
    "kegiatan": {"judul": "Registrasi penduduk (contoh)", "tahun": 2026,
                 "cara_pengumpulan": "kompilasi_produk_administrasi",
                 "penyelenggara": "Disdukcapil Kutai Timur", "penanggung_jawab": "Kabid PIAK",
                 "perencanaan": "Tahunan.", "desain": "Seluruh desa dan kelurahan.",
                 "desain_sampel": "Tanpa sampel (data administrasi).",
                 "penjaminan_kualitas": "Validasi SIAK dan walidata.",
                 "pengolahan_analisis": "Rekap per desa.", "diseminasi": "Portal Satu Data."},
    "measures": {"jumlah": {
        "jenis": "indikator", "nama": "Jumlah penduduk", "konsep": "Penduduk",
        "definisi": "Orang yang berdomisili di desa.", "interpretasi": "Banyaknya penduduk.",
        "metode_perhitungan": "Penjumlahan", "rumus": "jumlah", "ukuran": "Jumlah",
        "satuan": "jiwa", "komposit": False, "frekuensi": "tahunan",
        "level_estimasi": "desa"}}}


@pytest.fixture
def stack_options() -> dict:
    return {"search": False}


async def test_verified_forms_reach_ckan_dcat_and_the_workbook(stack):
    base = f"/v1/datasets/{SLUG}/statistical-metadata"
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        r = await client.put(base, headers=stack["opd"], json=FORMS)
        assert r.status_code == 201, r.text
        version = r.json()["version"]
        held = (await client.get("/api/3/action/package_show", params={"id": SLUG})).json()
        r = await client.post(f"{base}/versions/{version}/verify", headers=stack["opd"], json={})
        assert r.status_code == 403, r.text  # the walidata decides, not the producer
        r = await client.post(f"{base}/versions/{version}/verify", headers=stack["walidata"],
                              json={"note": "sesuai formulir"})
        assert r.status_code == 200 and r.json()["complete"], r.text
        shown = (await client.get("/api/3/action/package_show", params={"id": SLUG})).json()
        found = (await client.get("/api/3/action/package_search", params={"q": "penduduk"}
                                  )).json()
        catalog = (await client.get("/catalog.jsonld")).json()
        xlsx = await client.get(base, params={"format": "xlsx"})

    before = held["result"]["metadata_statistik"]
    assert before["version"] == 1 and not before["complete"]  # the Perpres 39 keys only
    pkg = shown["result"]
    assert pkg["metadata_statistik"]["version"] == version and pkg["metadata_statistik"][
        "complete"]
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    assert json.loads(extras["ms_kegiatan"])["judul"] == "Registrasi penduduk (contoh)"
    assert json.loads(extras["ms_indikator.jumlah"])["level_estimasi"] == "desa"
    assert extras["metadata_statistik_lengkap"] == "ya"
    [listed] = [p for p in found["result"]["results"] if p["name"] == SLUG]
    assert listed["metadata_statistik"] == pkg["metadata_statistik"]

    [dataset] = [d for d in catalog["dcat:dataset"] if d["dct:identifier"] == SLUG]
    activity = dataset["prov:wasGeneratedBy"]
    assert (activity["@type"], activity["ms:judul"], activity["ms:desain_sampel"]) == (
        "prov:Activity", "Registrasi penduduk (contoh)", "Tanpa sampel (data administrasi).")
    [measure] = dataset["stat:statMeasure"]
    assert (measure["dct:identifier"], measure["dct:type"], measure["rdfs:label"],
            measure["ms:satuan"]) == ("jumlah", "MS-Indikator", "Jumlah penduduk", "jiwa")
    assert "Peraturan BPS Nomor 5 Tahun 2020" in dataset["dct:conformsTo"]["dct:title"]
    assert catalog["@context"]["ms"].endswith("/ns/metadata-statistik#")

    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["MS-Kegiatan", "MS-Indikator jumlah"]
    cells = [c for row in book["MS-Kegiatan"].iter_rows(values_only=True) for c in row if c]
    assert "Registrasi penduduk (contoh)" in cells and "Kompilasi produk administrasi" in cells
