"""CSV and XLSX uploads: header mapping, large files, and every refusal in the one error shape."""

from __future__ import annotations

import gzip
import io
import zipfile

import openpyxl

from tests.integration.ingest.conftest import DESA, auth, principal, rows

DATASET = "jumlah-penduduk"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    return body["error"]


def xlsx_bytes(header, data) -> bytes:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("data")
    ws.append(header)
    for row in data:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def stored_rows(pool, submission_id):
    return [r["row"] for r in await pool.fetch(
        "SELECT row FROM submission_rows WHERE submission_id = $1::uuid ORDER BY idx",
        submission_id)]


async def test_csv_headers_map_to_fields_forgiving_case_and_spacing(client, ingest_db):
    csv_text = ("Kode Wilayah;Tahun; JENIS  Kelamin ;Jumlah;Keterangan\n"
                f"{DESA};2024;L;1234;contoh\n{DESA};2024;P;1300;\n")
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("penduduk.csv", csv_text, "text/csv")},
                                 headers=auth())
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["rows"] == 2
    assert [w["column"] for w in body["warnings"] if w["code"] == "unknown_column"] == [
        "Keterangan"]
    assert await stored_rows(ingest_db, body["id"]) == [
        {"region": DESA, "period": "2024", "jenis_kelamin": "L", "jumlah": "1234",
         "_line": 2},
        {"region": DESA, "period": "2024", "jenis_kelamin": "P", "jumlah": "1300", "_line": 3}]


async def test_raw_csv_body_with_dataset_query(client, ingest_db):
    response = await client.post(f"/v1/submissions?dataset={DATASET}",
                                 content=f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,7\n",
                                 headers={**auth(), "Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    assert await stored_rows(ingest_db, response.json()["id"]) == [
        {"region": DESA, "period": "2024", "jenis_kelamin": "L", "jumlah": "7", "_line": 2}]


async def test_xlsx_headers_map_by_name_and_label(client, ingest_db):
    data = xlsx_bytes(["Wilayah", "Periode", "Jenis kelamin", "Jumlah Penduduk", "Sumber"],
                      [[DESA, 2024, "Laki-laki", 1234], [DESA, 2024, "P", 1300.0]])
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("penduduk.xlsx", data, XLSX)}, headers=auth())
    assert response.status_code == 202, response.text
    body = response.json()
    assert [w["column"] for w in body["warnings"]] == ["Sumber"]
    assert await stored_rows(ingest_db, body["id"]) == [
        {"region": DESA, "period": 2024, "jenis_kelamin": "Laki-laki", "jumlah": 1234,
         "_line": 2},
        {"region": DESA, "period": 2024, "jenis_kelamin": "P", "jumlah": 1300, "_line": 3}]


async def test_100k_row_csv_is_accepted_in_chunks(ingest_settings, start_ingest, ingest_db):
    lines = ["region,period,jenis_kelamin,jumlah"] + [
        f"{DESA},{2000 + i % 25},{'LP'[i % 2]},{i}" for i in range(100_000)]
    settings = ingest_settings.model_copy(update={"chunk_rows": 500})
    async with start_ingest(settings) as client:
        response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                     files={"file": ("besar.csv", "\n".join(lines), "text/csv")},
                                     headers=auth())
    assert response.status_code == 202, response.text
    assert response.json()["rows"] == 100_000
    assert await ingest_db.fetchval("SELECT count(*) FROM submission_rows") == 100_000
    assert response.json()["chunks"] == 200
    assert await ingest_db.fetchval("SELECT count(*) FROM outbox") == 200


async def test_missing_principal_is_401(client):
    response = await client.post("/v1/submissions", json={"dataset": DATASET, "rows": rows(1)})
    assert_error(response, 401, "missing_api_key")


async def test_dataset_outside_the_keys_rights_is_403(client):
    response = await client.post("/v1/submissions", json={"dataset": DATASET, "rows": rows(1)},
                                 headers=auth(principal(datasets=["jumlah-sekolah"])))
    assert_error(response, 403, "dataset_not_allowed")


async def test_unknown_dataset_is_404_naming_the_datasets_the_key_may_write(client):
    response = await client.post("/v1/submissions", json={"dataset": "tidak-ada",
                                                          "rows": rows(1)}, headers=auth())
    error = assert_error(response, 404, "dataset_not_found")
    assert "jumlah-penduduk" in error["message"]
    wildcard = await client.post("/v1/submissions", json={"dataset": "tidak-ada",
                                                           "rows": rows(1)},
                                 headers=auth(principal(datasets=["*"])))
    assert assert_error(wildcard, 404, "dataset_not_found")["details"][0]["allowed"] == [
        "jumlah-penduduk"]


async def test_body_too_large_is_413(ingest_settings, start_ingest):
    settings = ingest_settings.model_copy(update={"max_body_bytes": 2000})
    async with start_ingest(settings) as client:
        response = await client.post("/v1/submissions",
                                     json={"dataset": DATASET, "rows": rows(100)},
                                     headers=auth())
        assert_error(response, 413, "payload_too_large")


async def test_too_many_rows_is_413_and_stores_nothing(ingest_settings, start_ingest, ingest_db):
    settings = ingest_settings.model_copy(update={"max_rows": 10})
    async with start_ingest(settings) as client:
        response = await client.post("/v1/submissions",
                                     json={"dataset": DATASET, "rows": rows(11)},
                                     headers=auth())
        assert_error(response, 413, "too_many_rows")
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 0


async def test_unsupported_content_type_is_415(client):
    response = await client.post("/v1/submissions", content=b"<rows/>",
                                 headers={**auth(), "Content-Type": "application/xml"})
    assert_error(response, 415, "unsupported_media_type")
    old_excel = await client.post("/v1/submissions", data={"dataset": DATASET},
                                  files={"file": ("lama.xls", b"\xd0\xcf", "application/vnd.ms-excel")},
                                  headers=auth())
    assert_error(old_excel, 415, "unsupported_file_type")


async def test_malformed_csv_is_422_with_line_and_column(client):
    csv_text = f'region,period,jenis_kelamin,jumlah\n{DESA},2024,L,1\n{DESA},2024,"P"x,2\n'
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("rusak.csv", csv_text, "text/csv")},
                                 headers=auth())
    error = assert_error(response, 422, "malformed_csv")
    assert error["details"][0]["line"] == 3 and error["details"][0]["column"] == 3
    too_wide = f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,1,9\n"
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("lebar.csv", too_wide, "text/csv")},
                                 headers=auth())
    error = assert_error(response, 422, "malformed_csv")
    assert error["details"][0] == {"line": 2, "column": 5, "message": "kolom lebih banyak dari judul"}


async def test_malformed_xlsx_is_422(client):
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("rusak.xlsx", b"bukan zip", XLSX)},
                                 headers=auth())
    assert_error(response, 422, "malformed_xlsx")


async def test_gzip_body_expanding_beyond_limit_is_413_decompressed_too_large(
        ingest_settings, start_ingest):
    settings = ingest_settings.model_copy(update={"max_decompressed_bytes": 1_000_000})
    bomb = gzip.compress(b"region,period,jenis_kelamin,jumlah\n" + b"0" * 5_000_000)
    async with start_ingest(settings) as client:
        response = await client.post(
            f"/v1/submissions?dataset={DATASET}", content=bomb,
            headers={**auth(), "Content-Type": "text/csv", "Content-Encoding": "gzip"})
        assert_error(response, 413, "decompressed_too_large")
        fine = await client.post(
            f"/v1/submissions?dataset={DATASET}",
            content=gzip.compress(f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,1\n".encode()),
            headers={**auth(), "Content-Type": "text/csv", "Content-Encoding": "gzip"})
        assert fine.status_code == 202, fine.text


async def test_xlsx_zip_bomb_is_413_decompressed_too_large(ingest_settings, start_ingest):
    settings = ingest_settings.model_copy(update={"max_decompressed_bytes": 1_000_000})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 20_000_000)
    async with start_ingest(settings) as client:
        response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                     files={"file": ("bom.xlsx", out.getvalue(), XLSX)},
                                     headers=auth())
        assert_error(response, 413, "decompressed_too_large")


async def test_dry_run_of_a_csv_upload_validates_through_the_registry_and_stores_nothing(
        client, ingest_db):
    csv_text = f"Wilayah,Tahun,Jenis Kelamin,Jumlah\n{DESA},2024,L,12\n{DESA},2024,P,abc\n"
    response = await client.post("/v1/submissions?dry_run=true", data={"dataset": DATASET},
                                 files={"file": ("cek.csv", csv_text, "text/csv")},
                                 headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"]["created"] == 1 and body["counts"]["rejected"] == 1
    assert body["rejected_rows"][0]["index"] == 1
    assert body["diff"][0]["change"] == "create"
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 0


async def test_csv_rows_are_counted_before_any_is_stored(ingest_settings, start_ingest,
                                                         ingest_db):
    settings = ingest_settings.model_copy(update={"max_rows": 10})
    header = "region,period,jenis_kelamin,jumlah\n"
    line = f'{DESA},2024,L,"1000"\n'
    quoted = f'{DESA},2023,"L",1\n'
    async with start_ingest(settings) as client:
        over = await client.post(f"/v1/submissions?dataset={DATASET}",
                                 content=(header + line * 11).encode(),
                                 headers={**auth(), "Content-Type": "text/csv"})
        assert_error(over, 413, "too_many_rows")
        assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 0
        at_cap = await client.post(f"/v1/submissions?dataset={DATASET}",
                                   content=(header + line * 9 + quoted).encode(),
                                   headers={**auth(), "Content-Type": "text/csv"})
        assert at_cap.status_code == 202, at_cap.text
