"""Export cells: Indonesian columns, numbers for Indonesian Excel, no formula from text."""

from datetime import date

import pytest

from shared.contracts import DatasetSchemaV1
from shared.tabular import columns, csv_cell, row


@pytest.mark.parametrize("text", ["=1+1", "+62 812", "-x", "@SUM(A1)", "\tx", "\rx",
                                  '=HYPERLINK("http://evil.example","klik")'])
def test_text_that_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert csv_cell(text) == "'" + text
    assert csv_cell(text, "id") == "'" + text


def test_numbers_stay_numbers_with_a_decimal_comma_for_indonesia():
    assert (csv_cell(-5), csv_cell(55.5), csv_cell(1234567)) == ("-5", "55.5", "1234567")
    assert (csv_cell(-5, "id"), csv_cell(55.5, "id"), csv_cell(-0.25, "id")) == (
        "-5", "55,5", "-0,25")
    assert (csv_cell(None), csv_cell("Sangatta Utara"), csv_cell("2024-S1")) == (
        "", "Sangatta Utara", "2024-S1")


def test_csv_and_xlsx_share_indonesian_columns_with_the_region_name_and_wita_times():
    schema = DatasetSchemaV1.model_validate({
        "dimensions": [{"name": "jenis_kelamin", "label": "Jenis kelamin"}],
        "measures": [{"name": "jumlah", "label": "Jumlah"}]})
    header, dims, measures = columns(schema)
    assert header == ["kode_wilayah", "nama_wilayah", "periode", "jenis_kelamin", "jumlah",
                      "versi", "diperbarui", "status_verifikasi", "wilayah_berlaku_mulai",
                      "wilayah_tidak_berlaku_sejak"]
    record = {"region_code": "64.08.04.2001", "period": "2024",
              "dimensions": {"jenis_kelamin": "L"}, "values": {"jumlah": 10}, "version": 2,
              "updated_at": "2024-05-01T00:00:00+00:00"}
    region = {"name": "Sangatta Utara", "valid_from": None, "valid_until": None}
    assert row(record, region, dims, measures) == [
        "64.08.04.2001", "Sangatta Utara", "2024", "L", 10, 2, "2024-05-01T08:00:00+08:00", "",
        "", ""]
    marked = {**record, "verification_status": "sedang_diverifikasi"}
    assert row(marked, region, dims, measures)[-3] == "sedang diverifikasi"
    retired = {**region, "valid_until": date(2025, 1, 1)}  # the first day no longer used
    assert row(record, retired, dims, measures)[-2:] == ["", "2025-01-01"]
