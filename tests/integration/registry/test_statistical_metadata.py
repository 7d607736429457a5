"""BPS statistical metadata of a sample dataset (contoh): the Perpres 39 keys arrive as its
first verified version; its producer submits the forms (a formula naming an unknown measure,
an unreadable formula and a stranger's key are refused, nothing stored); the walidata returns
one with a note and verifies the next; the public sees only verified forms, with what is
missing; every version's hash is recomputed in SQL; the BPS-layout workbook carries the forms
and is safe to open."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from satudata.verify import verify_database
from tests.helpers import dataset_payload
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
SLUG = "contoh-kemiskinan"
PRODUCER = principal_headers("dinsos", role="publisher", datasets=[SLUG])
STRANGER = principal_headers("disdik", role="publisher", datasets=["jumlah-penduduk"])
BASE = f"/v1/datasets/{SLUG}/statistical-metadata"

KEGIATAN = {
    "judul": "Pendataan penduduk miskin (contoh)", "tahun": 2026,
    "jenis_statistik": "sektoral", "cara_pengumpulan": "kompilasi_produk_administrasi",
    "penyelenggara": "Dinas Sosial Kutai Timur", "walidata": "Diskominfo Staper",
    "penanggung_jawab": "Kepala Bidang Data, Dinas Sosial",
    "perencanaan": "Tahunan, untuk perencanaan bantuan sosial.",
    "desain": "Kompilasi dari desa, seluruh 141 desa.",
    "desain_sampel": "Tidak menggunakan sampel (pencacahan lengkap administrasi).",
    "penjaminan_kualitas": "Aturan validasi dan verifikasi walidata.",
    "pengolahan_analisis": "Rekap per desa dan kecamatan.",
    "diseminasi": "=HYPERLINK(\"http://x\") portal Satu Data",  # must not run in Excel
}
VARIABEL = {"jenis": "variabel", "nama": "Jumlah penduduk", "konsep": "Penduduk",
            "definisi": "Orang yang berdomisili enam bulan atau lebih.",
            "referensi_waktu": "31 Desember", "tipe_data": "numerik", "akses_umum": True}


def _indicator(**over) -> dict:
    return {"jenis": "indikator", "nama": "Persentase penduduk miskin", "konsep": "Kemiskinan",
            "definisi": "Penduduk miskin dibagi penduduk.", "interpretasi": "Makin kecil makin baik.",
            "metode_perhitungan": "Rasio dikali 100", "rumus": "penduduk_miskin / jumlah_penduduk * 100",
            "ukuran": "Persentase", "satuan": "persen", "komposit": True,
            "indikator_pembangun": ["penduduk_miskin", "jumlah_penduduk"],
            "kegiatan_penghasil": "Pendataan penduduk miskin", "frekuensi": "tahunan",
            "level_estimasi": "desa", **over}


def _document(**indicator) -> dict:
    return {"kegiatan": KEGIATAN, "measures": {
        "jumlah_penduduk": VARIABEL,
        "penduduk_miskin": {**VARIABEL, "nama": "Penduduk miskin", "konsep": "Miskin"},
        "persen_miskin": _indicator(**indicator)}}


async def test_statistical_metadata_is_submitted_reviewed_and_published(client, registry):
    pool = registry["pool"]
    r = await client.post("/v1/datasets", headers=STEWARD, json=dataset_payload(
        SLUG, title="Penduduk miskin (data contoh)", metadata={"satuan": "jiwa"},
        schema={"measures": [
            {"name": "jumlah_penduduk", "label": "Jumlah penduduk", "additive": True},
            {"name": "penduduk_miskin", "label": "Penduduk miskin", "additive": True},
            {"name": "persen_miskin", "label": "Persentase miskin", "type": "decimal",
             "additive": False}]}))
    assert r.status_code == 201, r.text

    # the Perpres 39 keys are its first version, verified
    first = (await client.get(BASE)).json()
    assert first["published"]["version"] == 1
    assert first["published"]["document"]["kegiatan"]["penyelenggara"] == "Dinas uji"
    assert first["published"]["document"]["kegiatan"]["walidata"] == "Diskominfo Kutai Timur"
    miskin = first["published"]["document"]["measures"]["penduduk_miskin"]
    assert (miskin["nama"], miskin["konsep"], miskin["definisi"], miskin["satuan"],
            miskin["frekuensi"]) == ("Penduduk miskin", "Konsep uji", "Definisi uji", "jiwa",
                                     "tahunan")
    assert not first["complete"] and "kegiatan.desain_sampel" in first["missing"]
    assert first["labels"]["MS-Kegiatan.desain_sampel"] == "Desain sampel"

    # refused, naming what is wrong; nothing stored
    r = await client.put(BASE, headers=PRODUCER, json=_document(
        rumus="penduduk_miskin / penduduk_total * 100"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_measure", r.text
    assert "penduduk_total" in r.json()["error"]["message"]
    r = await client.put(BASE, headers=PRODUCER, json=_document(
        indikator_pembangun=["penduduk_miskin", "kk_miskin"]))
    assert r.status_code == 422 and "kk_miskin" in r.json()["error"]["message"], r.text
    r = await client.put(BASE, headers=PRODUCER, json=_document(rumus="__import__('os')"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_formula", r.text
    r = await client.put(BASE, headers=STRANGER, json=_document())
    assert r.status_code == 403, r.text
    assert await pool.fetchval(
        "SELECT count(*) FROM registry.statistical_metadata m JOIN registry.datasets d "
        "ON d.id = m.dataset_id WHERE d.slug = $1", SLUG) == 1

    # the producer submits: held, not yet public
    r = await client.put(BASE, headers=PRODUCER, json=_document(interpretasi=None))
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["status"]) == (2, "held")
    assert r.json()["missing"] == ["measures.persen_miskin.interpretasi"]
    shown = (await client.get(BASE)).json()
    assert (shown["published"]["version"], shown["held_version"]) == (1, 2)

    # the walidata returns it with a note; the producer reads the note
    r = await client.post(f"{BASE}/versions/2/return", headers=STEWARD,
                          json={"note": "Interpretasi indikator belum diisi."})
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text
    r = await client.post(f"{BASE}/versions/2/verify", headers=STEWARD, json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "metadata_not_held", r.text
    history = (await client.get(f"{BASE}/versions", headers=PRODUCER)).json()["items"]
    assert [(v["version"], v["status"], v["note"]) for v in history] == [
        (2, "returned", "Interpretasi indikator belum diisi."),
        (1, "verified", "dari metadata Perpres 39 saat dataset dibuat")]
    assert (await client.get(f"{BASE}/versions", headers=STRANGER)).status_code == 403

    # fixed, verified, published complete
    r = await client.put(BASE, headers=PRODUCER, json=_document())
    assert r.status_code == 201 and r.json()["version"] == 3, r.text
    r = await client.post(f"{BASE}/versions/3/verify", headers=PRODUCER, json={})
    assert r.status_code == 403, r.text
    r = await client.post(f"{BASE}/versions/3/verify", headers=STEWARD, json={})
    assert r.status_code == 200, r.text
    shown = (await client.get(BASE)).json()
    assert (shown["published"]["version"], shown["held_version"], shown["complete"],
            shown["missing"]) == (3, None, True, [])
    assert shown["published"]["document"]["measures"]["persen_miskin"]["rumus"] == \
        "penduduk_miskin / jumlah_penduduk * 100"

    # every stored version's hash is what PostgreSQL computes from the document
    assert await pool.fetchval(
        "SELECT bool_and(hash = encode(sha256(convert_to(document::text, 'UTF8')), 'hex')) "
        "FROM registry.statistical_metadata") is True
    actions = [e["action"] for e in (await client.get(
        "/v1/audit", headers=STEWARD, params={"target": SLUG})).json()["items"]]
    assert {"statistical_metadata.submit", "statistical_metadata.returned",
            "statistical_metadata.verified"} <= set(actions)

    # the list: complete and incomplete, with what is missing
    every = (await client.get("/v1/statistical-metadata")).json()
    assert every["complete"] == 1
    lacking = (await client.get("/v1/statistical-metadata", params={"complete": "false"})).json()
    demo = next(i for i in lacking["items"] if i["dataset"] == "jumlah-penduduk")
    assert "kegiatan.perencanaan" in demo["missing"] and SLUG not in [
        i["dataset"] for i in lacking["items"]]

    # the BPS-layout workbook
    r = await client.get(BASE, params={"format": "xlsx"})
    assert r.status_code == 200, r.text
    book = load_workbook(io.BytesIO(r.content))
    assert book.sheetnames == ["MS-Kegiatan", "MS-Variabel jumlah_penduduk",
                               "MS-Variabel penduduk_miskin", "MS-Indikator persen_miskin"]
    rows = {row[1]: row[2] for row in book["MS-Kegiatan"].iter_rows(values_only=True)
            if row and len(row) > 2 and isinstance(row[0], int)}
    assert rows["Cara pengumpulan data"] == "Kompilasi produk administrasi"
    assert rows["Diseminasi hasil"].startswith("'=HYPERLINK")
    indicator = {row[1]: row[2] for row in book["MS-Indikator persen_miskin"].iter_rows(
        values_only=True) if row and len(row) > 2 and isinstance(row[0], int)}
    assert indicator["Indikator komposit"] == "Ya"
    assert indicator["Indikator/variabel pembangun"] == "penduduk_miskin, jumlah_penduduk"

    # the EPSS evidence counts it: this one complete, the demo dataset not, with what it lacks
    r = await client.get("/v1/epss/evidence", params={"year": 2026}, headers=STEWARD)
    assert r.status_code == 200, r.text
    forms = next(i for i in r.json()["indicators"] if i["indicator"] == "metadata_statistik")
    by = {i["dataset"]: i for i in forms["items"]}
    assert (by[SLUG]["numerator"], by["jumlah-penduduk"]["numerator"]) == (1, 0)
    assert "kegiatan.perencanaan" in by["jumlah-penduduk"]["detail"]
    assert (forms["numerator"], forms["denominator"]) == (1, len(by))

    # `satudata verify` names a version whose document was changed behind the API
    assert (await verify_database(registry["settings"].database_url))["ok"]
    await pool.execute(
        """UPDATE registry.statistical_metadata m SET document = jsonb_set(document,
           '{kegiatan,penyelenggara}', '"Dinas lain"') FROM registry.datasets d
           WHERE d.id = m.dataset_id AND d.slug = $1 AND m.version = 3""", SLUG)
    report = await verify_database(registry["settings"].database_url)
    assert not report["ok"] and report["metadata_breaks"] == [{"dataset": SLUG, "version": 3}]
