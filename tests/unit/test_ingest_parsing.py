"""Header mapping, CSV/XLSX parsing and chunking, without I/O beyond temporary files."""

from __future__ import annotations

import json

import openpyxl
import pytest

from services.ingest.chunking import Chunker, KeyTracker, next_batch, tracked
from services.ingest.parsing import CsvRows, FieldSet, JsonRows, XlsxRows, norm
from shared.contracts import DatasetSchemaV1
from shared.errors import PayloadTooLarge, Unprocessable

DATASET = DatasetSchemaV1.model_validate({
    "dimensions": [{"name": "jenis_kelamin", "label": "Jenis kelamin",
                    "values": {"L": "Laki-laki", "P": "Perempuan"}}],
    "measures": [{"name": "jumlah", "label": "Jumlah penduduk", "type": "integer"}]})


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


def test_csv_lines_are_the_lines_an_editor_shows(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('region,period,jenis_kelamin,jumlah\n'        # 1
                    f'{DESA},2024,L,1\n'                           # 2
                    '\n'                                           # 3 blank
                    f'"{DESA}",2024,"P\nbaris kedua",2\n'          # 4-5 quoted newline
                    '\n\n'                                         # 6-7
                    f'{DESA},2025,L,3\n')                          # 8
    assert [r["_line"] for r in CsvRows(path, FieldSet(DATASET))] == [2, 4, 8]


DESA = "64.08.04.2001"


@pytest.mark.parametrize("text, expected", [
    # Excel set to Indonesian: ';' between fields, ',' as the decimal mark inside them.
    (f"region;period;jenis_kelamin;jumlah\n{DESA};2024;L;2.000\n{DESA};2024;P;2,5\n",
     ["2.000", "2,5"]),
    (f"sep=;\nregion;period;jenis_kelamin;jumlah\n{DESA};2024;L;1.234,5\n", ["1.234,5"]),
    (f"region\tperiod\tjenis_kelamin\tjumlah\n{DESA}\t2024\tL\t7\n", ["7"]),
    (f'region,period,jenis_kelamin,jumlah\n{DESA},2024,L,"2,5"\n', ["2,5"]),
])
def test_delimiter_is_sniffed_from_the_first_records(tmp_path, text, expected):
    path = tmp_path / "a.csv"
    path.write_text(text)
    rows = list(CsvRows(path, FieldSet(DATASET)))
    assert [r["jumlah"] for r in rows] == expected
    assert all(r["region"] == DESA for r in rows)


def test_xlsx_rows_are_numbered_as_in_the_sheet_with_its_name(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Penduduk 2024"
    ws["B3"], ws["C3"], ws["D3"], ws["E3"] = "region", "period", "jenis_kelamin", "jumlah"
    ws["B5"], ws["C5"], ws["D5"], ws["E5"] = DESA, "2024", "L", 1
    ws["B6"], ws["C6"], ws["D6"], ws["E6"] = DESA, "2024", "P", "2.000"
    path = tmp_path / "a.xlsx"
    wb.save(path)
    source = XlsxRows(path, FieldSet(DATASET), 10_000_000)
    rows = list(source)
    assert [(r["_line"], r["jumlah"]) for r in rows] == [(5, 1), (6, "2.000")]
    assert source.sheet == "Penduduk 2024"


def test_key_tracker_names_the_other_lines_of_rows_written_alike():
    tracker = KeyTracker(["jenis_kelamin"])
    rows = [{"region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "L", "_line": 2},
            {"region": "Desa Sangatta Utara", "period": "2024", "jenis_kelamin": "L",
             "_line": 3},
            {"region": "6408042001", "period": "2024", "jenis_kelamin": "l", "_line": 4},
            {"region": "desa sangatta utara.", "period": "2024", "jenis_kelamin": "L",
             "_line": 7},
            {"region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "P", "_line": 8}]
    assert list(tracked(iter(rows), tracker)) == rows
    assert tracker.duplicates() == {0: [4], 2: [2], 1: [7], 3: [3]}
    assert KeyTracker(None).duplicates() == {}  # registry away: no fields, no guesses


def test_key_tracker_regroups_cells_that_resolve_to_one_place():
    tracker = KeyTracker(["jenis_kelamin"])
    rows = [{"region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "L", "_line": 2},
            {"region": "Sangatta Utara", "period": "2024", "jenis_kelamin": "L", "_line": 9},
            {"region": "Sangata", "period": "2024", "jenis_kelamin": "L", "_line": 12}]
    list(tracked(iter(rows), tracker))
    assert tracker.duplicates() == {}
    assert sorted(tracker.region_cells()) == ["64.08.04.2001", "Sangata", "Sangatta Utara"]
    tracker.resolve_with({"64.08.04.2001": "64.08.04.2001", "Sangatta Utara": "64.08.04.2001",
                          "Sangata": None})  # refused cells are never guessed into a group
    assert tracker.duplicates() == {0: [9], 1: [2]}
