"""Region codes that change (retired with a successor) and how operators write names."""

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.regions.reference import names_agree, region_rows
from services.registry.regions.index import Region, RegionIndex, normalize_name

DATA = Path(__file__).resolve().parents[2] / "data"

with (DATA / "wilayah_6408_kutai_timur.csv").open() as f:
    REGIONS = [Region(r["code"], r["name"], r["level"], r["parent_code"], tuple(r["path"]))
               for r in region_rows(csv.DictReader(f))]
VILLAGES = [r for r in REGIONS if r.level in ("desa", "kelurahan")]
UNIQUE_NAMES = [r for r in VILLAGES
                if sum(normalize_name(x.name) == normalize_name(r.name) for x in REGIONS) == 1]

# Singa Geweh was desa 64.08.12.2002 before it became kelurahan 64.08.12.1002.
OLD_SINGA_GEWEH = Region("64.08.12.2002", "Singa Geweh", "desa", "64.08.12",
                         ("64.08", "64.08.12", "64.08.12.2002"), "2010-01-01", "64.08.12.1002")
RETIRED_NO_SUCCESSOR = Region("64.08.12.2098", "Kampung Lama", "desa", "64.08.12",
                              ("64.08", "64.08.12", "64.08.12.2098"), "2015-06-30", None)


@pytest.fixture(scope="module")
def index() -> RegionIndex:
    return RegionIndex.build(REGIONS + [OLD_SINGA_GEWEH, RETIRED_NO_SUCCESSOR], [])


@pytest.mark.parametrize("written", ["64.08.12.2002", "Singa Geweh", "KELURAHAN SINGA GEWEH",
                                     "64.08.12.1002"])
def test_retired_code_and_shared_name_resolve_to_the_successor(index, written):
    assert index.resolve(written, {"desa", "kelurahan"}) == ("64.08.12.1002", None)


def test_retired_code_without_successor_is_refused_with_the_date(index):
    code, problem = index.resolve("64.08.12.2098")
    assert code is None and problem.code == "region_retired"
    assert "2015-06-30" in problem.message


@given(st.sampled_from(REGIONS))
def test_every_official_code_resolves_to_itself(region):
    index = RegionIndex.build(REGIONS, [])
    assert index.resolve(f"  {region.code} ") == (region.code, None)


@settings(max_examples=200)
@given(region=st.sampled_from(UNIQUE_NAMES), prefix=st.sampled_from(["", "Desa ", "DESA. ",
                                                                      "Kel. ", "kelurahan "]),
       upper=st.booleans(), spaces=st.integers(1, 3))
def test_unique_village_names_resolve_however_they_are_cased_and_prefixed(
        region, prefix, upper, spaces):
    index = RegionIndex.build(REGIONS, [])
    written = prefix + (" " * spaces).join(region.name.split())
    written = written.upper() if upper else written.lower()
    assert index.resolve(written, {"desa", "kelurahan"}) == (region.code, None)


@given(st.text(max_size=40))
def test_normalize_name_is_idempotent(text):
    assert normalize_name(normalize_name(text)) == normalize_name(text)


def test_the_wrong_bridge_row_is_refused_and_its_correction_agrees():
    names = {r.code: r.name for r in REGIONS}
    assert names_agree("TELUK BARU", names["64.08.01.2004"]) < 0.7
    assert names_agree("TELUK BARU", names["64.08.01.2014"]) >= 0.7
