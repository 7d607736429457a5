"""Region resolution against the real Kutai Timur list and the statistics agency's spellings."""

import csv
from pathlib import Path

import pytest

from services.registry.regions.reference import names_agree, region_rows
from services.registry.records.validation import validate_row
from services.registry.regions.index import Region, RegionIndex, normalize_name
from shared.contracts import DatasetSchemaV1

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def index() -> RegionIndex:
    with (DATA / "wilayah_6408_kutai_timur.csv").open() as f:
        rows = region_rows(csv.DictReader(f))
    regions = [Region(r["code"], r["name"], r["level"], r["parent_code"], tuple(r["path"]))
               for r in rows]
    aliases = []
    names = {r.code: r.name for r in regions}
    with (DATA / "bps_6404_crosswalk.csv").open() as f:
        for r in csv.DictReader(f):
            if names_agree(r["bps_name"], names[r["kemendagri_code"]]) >= 0.7:
                aliases.append((r["kemendagri_code"], "bps_code", r["bps_code"]))
                aliases.append((r["kemendagri_code"], "spelling", r["bps_name"]))
    aliases.append(("64.08.05.2006", "former_name", "Benua Baru"))
    return RegionIndex.build(regions, aliases)


def test_real_tree_has_18_kecamatan_and_141_villages(index):
    levels = [r.level for r in index.regions.values()]
    assert levels.count("kecamatan") == 18
    assert levels.count("desa") + levels.count("kelurahan") == 141


@pytest.mark.parametrize("written, expected", [
    ("64.08.04.2001", "64.08.04.2001"),
    (" 64.08.01 ", "64.08.01"),
    ("6404010", "64.08.01"),              # BPS kecamatan code: Muara Ancalong
    ("6404010009", "64.08.01.2014"),      # corrected bridge row: Teluk Baru, not Long Nah
    ("KONGBENG", "64.08.08"),             # BPS spelling of Kombeng
    ("Kec. Kombeng", "64.08.08"),
    ("WANA SARI", "64.08.02.2007"),
    ("Desa Juk Ayak", "64.08.07.2003"),
    ("Benua Baru Ilir", "64.08.05.2006"),
    # "Benua Baru" was 64.08.05.2006's name until 2022, but is today the official name of
    # another village (Kec. Muara Bengkal): the name in force wins over the former name.
    ("benua baru", "64.08.03.2005"),
])
def test_resolves_codes_bps_codes_and_spellings(index, written, expected):
    code, problem = index.resolve(written)
    assert problem is None, problem
    assert code == expected


def test_name_shared_by_kecamatan_and_desa_is_ambiguous_and_names_candidates(index):
    code, problem = index.resolve("Sangatta Utara")
    assert code is None
    assert problem.code == "region_ambiguous"
    assert "64.08.04.2001" in problem.message and "64.08.04 " in problem.message


def test_level_of_the_dataset_settles_an_ambiguous_name(index):
    code, problem = index.resolve("Sangatta Utara", {"desa", "kelurahan"})
    assert (code, problem) == ("64.08.04.2001", None)


def test_unknown_region_is_rejected_with_guidance(index):
    code, problem = index.resolve("Desa Atlantis")
    assert code is None and problem.code == "region_unknown"
    assert "Kemendagri" in problem.message


def test_contradicting_alias_is_detected():
    assert names_agree("TELUK BARU", "Long Nah") < 0.7
    assert names_agree("KONGBENG", "Kombeng") >= 0.7


SCHEMA = DatasetSchemaV1.model_validate({
    "dimensions": [{"name": "jenis_kelamin", "label": "Jenis kelamin",
                    "values": {"L": "Laki-laki", "P": "Perempuan"}}],
    "measures": [{"name": "jumlah", "label": "Jumlah", "type": "integer", "min": 0}],
    "region_levels": ["desa", "kelurahan"]})


def test_valid_row_accepts_labels_and_normalises(index):
    row, errors = validate_row(0, {"region": "64.08.04.2001", "period": "2024",
                                   "jenis_kelamin": "perempuan", "jumlah": "1.234"},
                               schema=SCHEMA, frequency="annual", regions=index)
    assert errors == [] or errors[0].code == "not_an_integer"


def test_every_problem_in_a_row_is_reported_with_field_and_code(index):
    row, errors = validate_row(7, {"region": "64.08.04.2001", "period": "2024-Q5",
                                   "jenis_kelamin": "X", "jumlah": -1, "extra": 1},
                               schema=SCHEMA, frequency="annual", regions=index)
    assert row is None
    codes = {(e.field, e.code) for e in errors}
    assert codes == {("extra", "unknown_field"), ("period", "period_format"),
                     ("jenis_kelamin", "value_not_allowed"), ("jumlah", "below_minimum")}
    assert all(e.index == 7 for e in errors)


@pytest.mark.parametrize("frequency, good, bad", [
    ("annual", "2024", "2024-01"), ("semester", "2024-S2", "2024-S3"),
    ("quarterly", "2024-Q3", "2024Q3"), ("monthly", "2024-07", "2024-13"),
])
def test_period_must_match_frequency(index, frequency, good, bad):
    ok, errs = validate_row(0, {"region": "64.08.04.2001", "period": good,
                                "jenis_kelamin": "L", "jumlah": 1},
                            schema=SCHEMA, frequency=frequency, regions=index)
    assert ok is not None and errs == []
    _, errs = validate_row(0, {"region": "64.08.04.2001", "period": bad, "jenis_kelamin": "L",
                               "jumlah": 1}, schema=SCHEMA, frequency=frequency, regions=index)
    assert [e.code for e in errs] == ["period_format"]


def test_normalize_name_drops_administrative_prefixes():
    assert normalize_name("Kecamatan  Sangatta-Utara") == "SANGATTA UTARA"
    assert normalize_name("KAB. Kutai Timur") == "KUTAI TIMUR"


@pytest.mark.parametrize("written, expected", [
    ("6408042001", "64.08.04.2001"),                # Kemendagri without dots
    ("64 08 04 2001", "64.08.04.2001"),
    ("64-08-04-2001", "64.08.04.2001"),
    ("64.08.04.2001.", "64.08.04.2001"),            # stray punctuation
    ("'6408", "64.08"),
    ("6404040012", "64.08.04.2001"),                # BPS desa code: Sangatta Utara
    ("6404043", "64.08.12"),                        # BPS kecamatan code: Sangatta Selatan
    ("Kec. Sangatta Utara", "64.08.04"),            # level word before
    ("Sangatta Utara Kec.", "64.08.04"),            # ... after
    ("Sangatta Utara (Kecamatan)", "64.08.04"),     # ... in brackets
    ("KECAMATAN SANGATTA-UTARA", "64.08.04"),
    ("Ds. Sangatta Utara", "64.08.04.2001"),
    ("sangatta utara (desa)", "64.08.04.2001"),
    ("Desa Sangatta Utara,", "64.08.04.2001"),
    ("Kel. Teluk Lingga", "64.08.04.1010"),
    ("teluk lingga", "64.08.04.1010"),
    ("Kab. Kutai Timur", "64.08"),
    ("KUTAI TIMUR (KABUPATEN)", "64.08"),
    ("Kec Teluk Pandan", "64.08.13"),
    ("Desa Teluk Pandan", "64.08.13.2001"),
    ("KONGBENG (KEC.)", "64.08.08"),                # BPS spelling with a level word
])
def test_region_cells_as_staff_write_them(index, written, expected):
    code, problem = index.resolve(written)
    assert problem is None, problem
    assert code == expected


@pytest.mark.parametrize("written", ["Kec. Sangatta Utara", "Sangatta Utara (Kec.)",
                                     "Kecamatan Muara Wahau"])
def test_a_written_kecamatan_is_never_bent_to_the_desa_of_that_name(index, written):
    # The dataset is filled per village: the kecamatan is refused, not read as the desa.
    code, problem = index.resolve(written, {"desa", "kelurahan"})
    assert code is None and problem.code == "region_level"


def test_a_written_level_with_no_region_of_that_name_at_that_level_is_refused(index):
    code, problem = index.resolve("Kecamatan Teluk Lingga")  # a kelurahan, not a kecamatan
    assert code is None and problem.code == "region_level_mismatch"
    assert "64.08.04.1010" in problem.message
    code, problem = index.resolve("Desa Bengalon Timur")  # no such village: unknown
    assert code is None


def test_a_misspelt_village_is_refused_with_the_right_village_suggested(index):
    code, problem = index.resolve("Desa Sangata Utra", {"desa", "kelurahan"})
    assert code is None and problem.code == "region_unknown"
    first = problem.details["suggestions"][0]
    assert (first["code"], first["name"], first["level"]) == (
        "64.08.04.2001", "Sangatta Utara", "desa")
    assert "Sangatta Utara (64.08.04.2001" in problem.message


def test_suggestions_follow_the_written_level(index):
    _, problem = index.resolve("Kec. Sangata Utara")
    assert [s["code"] for s in problem.details["suggestions"]][:1] == ["64.08.04"]
    assert all(s["level"] == "kecamatan" for s in problem.details["suggestions"])


def test_unknown_codes_and_names_without_anything_close_get_no_suggestion(index):
    _, problem = index.resolve("64.08.99.9999")
    assert problem.code == "region_unknown" and not problem.details
    _, problem = index.resolve("Atlantis")
    assert problem.code == "region_unknown" and problem.details == {"suggestions": []}


def test_a_spelling_at_the_written_level_wins_over_an_official_name_at_another():
    kec = Region("64.08.90", "Alpha", "kecamatan", "64.08", ("64.08", "64.08.90"))
    desa = Region("64.08.90.2001", "Beta", "desa", "64.08.90", ("64.08", "64.08.90",
                                                                 "64.08.90.2001"))
    index = RegionIndex.build([kec, desa], [("64.08.90.2001", "spelling", "Alpha")])
    assert index.resolve("Desa Alpha") == ("64.08.90.2001", None)
    assert index.resolve("Kec. Alpha") == ("64.08.90", None)
