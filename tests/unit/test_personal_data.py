"""Personal identifiers in a row are found by shape: NIK, KK and phone numbers."""

import pytest

from shared.personal_data import kind_of, refusals


@pytest.mark.parametrize("text, kind", [
    ("6408041508900001", "nik"),            # man born 15-08-1990, Sangatta Utara
    ("6408045508900002", "nik"),            # woman: day + 40
    ("NIK 6408 0415 0890 0001 an. Budi", "nik"),
    ("6408.0415.0890.0001", "nik"),
    ("6408042811260003", "nik"),
    ("6408040000000001", "kk"),             # region prefix, no birth date
    ("081234567890", "phone"),
    ("+62 812-3456-7890", "phone"),
    ("6281234567890", "phone"),
])
def test_personal_identifiers_are_recognised(text, kind):
    assert kind_of(text) == kind


@pytest.mark.parametrize("text", [
    "6408042001", "64.08.04.2001", "2025", "1234", "Sangatta Utara", "0008123",
    "0000000000000000", "1234567890123", "6408041508900000",
])
def test_ordinary_values_are_not_personal(text):
    assert kind_of(text) is None


def test_a_row_with_a_nik_is_refused_naming_the_field_without_echoing_it():
    [r] = refusals({"desa": "6408042001", "keterangan": "ketua 6408041508900001", "jumlah": 3})
    assert r["field"] == "keterangan" and r["code"] == "personal_data_nik"
    assert "6408041508900001" not in str(r) and "Data pribadi" in r["message"]


def test_a_nik_that_excel_turned_into_a_number_is_found():
    assert refusals({"x": 6408041508900001.0})[0]["code"] == "personal_data_nik"


@pytest.mark.parametrize("text", ["６４０８０４１５０８９００００１",  # fullwidth
                                  "٦٤٠٨٠٤١٥٠٨٩٠٠٠٠١",  # Arabic-Indic digits
                                  "６４０８ ０４１５ ０８９０ ０００１"])
def test_a_nik_written_in_other_digits_is_still_a_nik(text):
    assert kind_of(text) == "nik"
