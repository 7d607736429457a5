"""Header mapping, CSV/XLSX parsing and chunking, without I/O beyond temporary files."""

from __future__ import annotations

import json

import openpyxl
import pytest

from services.ingest.chunking import Chunker, next_batch
from services.ingest.parsing import CsvRows, FieldSet, JsonRows, XlsxRows, norm
from shared.errors import PayloadTooLarge, Unprocessable

DATASET = {"slug": "jumlah-penduduk", "schema": {
    "dimensions": [{"name": "jenis_kelamin", "label": "Jenis kelamin",
                    "values": {"L": "Laki-laki", "P": "Perempuan"}}],
    "measures": [{"name": "jumlah", "label": "Jumlah penduduk", "type": "integer"}]}}


def test_header_names_forgive_case_spacing_and_punctuation():
    assert norm("  Jenis  Kelamin ") == "jenis_kelamin"
    assert norm("JUMLAH-Penduduk (jiwa)") == "jumlah_penduduk_jiwa"
    fields = FieldSet(DATASET)
    assert fields.target("Jenis Kelamin") == "jenis_kelamin"
    assert fields.target("Jumlah Penduduk") == "jumlah"  # by label
    assert fields.target("Tahun") == "period" and fields.target("Kode Wilayah") == "region"
    assert fields.target("Keterangan") is None


def test_without_the_registry_headers_pass_on_normalised():
    assert FieldSet(None).target("Jenis Kelamin") == "jenis_kelamin"


def test_csv_with_semicolons_and_unknown_column_warns(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("Wilayah;Tahun;Jenis Kelamin;Jumlah;Catatan\n\n64.08.04.2001;2024;L;12;x\n")
    source = CsvRows(path, FieldSet(DATASET))
    assert list(source) == [{"region": "64.08.04.2001", "period": "2024",
                             "jenis_kelamin": "L", "jumlah": "12", "_line": 3}]
    assert [w["column"] for w in source.warnings] == ["Catatan"]


def test_csv_saved_by_excel_in_cp1252_is_read(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("region,period,jenis_kelamin,jumlah\nDesa Sangatta Utara é,2024,L,1\n"
                     .encode("cp1252"))
    assert list(CsvRows(path, FieldSet(DATASET)))[0]["region"] == "Desa Sangatta Utara é"


def test_csv_quoting_error_names_line_and_column(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('region,period,jenis_kelamin,jumlah\na,2024,L,1\nb,2024,"L"z,2\n')
    with pytest.raises(Unprocessable) as caught:
        list(CsvRows(path, FieldSet(DATASET)))
    assert caught.value.details[0]["line"] == 3 and caught.value.details[0]["column"] == 3


def test_xlsx_values_are_normalised(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Region", "Period", "Jenis Kelamin", "Jumlah"])
    ws.append(["64.08.04.2001", 2024, "L", 12.0])
    ws.append([None, None, None, None])
    path = tmp_path / "a.xlsx"
    wb.save(path)
    assert list(XlsxRows(path, FieldSet(DATASET), 10_000_000)) == [
        {"region": "64.08.04.2001", "period": 2024, "jenis_kelamin": "L", "jumlah": 12,
         "_line": 2}]


def test_json_rows_must_be_objects():
    with pytest.raises(Unprocessable) as caught:
        list(JsonRows([{"region": "x"}, 5], FieldSet(DATASET)))
    assert caught.value.details[0]["index"] == 1


def test_chunks_close_on_rows_or_bytes_whichever_first():
    chunker = Chunker("d", chunk_rows=3, chunk_bytes=200, max_rows=100)
    small = [chunker.add({"v": i})[1] for i in range(7)]
    assert small == [0, 0, 0, 1, 1, 1, 2]
    chunker = Chunker("d", chunk_rows=100, chunk_bytes=200, max_rows=100)
    big = [chunker.add({"v": "x" * 90})[1] for i in range(5)]
    assert big == [0, 0, 1, 1, 2] and chunker.chunks == 3


def test_too_many_rows_is_refused():
    chunker = Chunker("d", chunk_rows=10, chunk_bytes=10_000, max_rows=2)
    with pytest.raises(PayloadTooLarge) as caught:
        next_batch(iter([{}, {}, {}]), chunker, 10)
    assert caught.value.code == "too_many_rows"


def test_fingerprint_ignores_key_order_but_not_values():
    def digest(rows):
        chunker = Chunker("d", chunk_rows=10, chunk_bytes=10_000, max_rows=10)
        next_batch(iter(rows), chunker, 10)
        return chunker.digest

    assert digest([{"a": 1, "b": 2}]) == digest([{"b": 2, "a": 1}])
    assert digest([{"a": 1}]) != digest([{"a": 2}])
    assert json.loads(Chunker("d", chunk_rows=1, chunk_bytes=9, max_rows=1).add({"a": 1})[2]) == {
        "a": 1}
