"""The validation rules' expression language: parsed against a whitelist, never run as code."""

import pytest

from services.registry.verification.outliers import flag
from services.registry.verification.rules_store import _lookup
from services.registry.verification.rules_lang import RuleError, compile_rule, parse

MEASURES = {"guru", "murid", "laki_laki", "perempuan", "total", "jumlah"}
DIMENSIONS = {"jenis_kelamin": {"L", "P", "T"}}


def _parse(text):
    return parse(text, measures=MEASURES, dimensions=DIMENSIONS)


@pytest.mark.parametrize("text", [
    "laki_laki + perempuan == total", "guru > 0", "murid / guru <= 60",
    "guru > 0 and murid / guru <= 60", "not (guru < 0)", "0 <= guru <= 500",
    'jenis_kelamin == "L" or jumlah >= 0', "abs(laki_laki - perempuan) <= total",
    "-guru < 1", "guru * 2.5 >= 1",
])
def test_rules_in_record_are_accepted(text):
    rule = _parse(text)
    assert rule.expression == text and rule.cross is False


@pytest.mark.parametrize("text", [
    'sibling(jumlah, jenis_kelamin="L") + sibling(jumlah, jenis_kelamin="P") '
    '== sibling(jumlah, jenis_kelamin="T")',
    "jumlah <= parent(jumlah)",
])
def test_rules_across_records_are_accepted_and_marked(text):
    assert _parse(text).cross is True


@pytest.mark.parametrize("text", [
    '__import__("os").system("rm -rf /") == 0',   # calls outside the three functions
    "guru.__class__ == 1",                          # attributes
    "guru ** 2 > 1",                                # operators off the list
    "guru // 2 > 1", "guru % 2 == 0", "guru << 2 > 1",
    "[guru][0] > 1", "{1: guru}[1] > 0",            # containers, subscripts
    "(lambda: 1)() > 0", "guru if murid else 0",    # lambdas, conditionals
    "guru", "1",                                    # not a comparison
    "siswa > 0",                                    # not a measure of the dataset
    'guru > "banyak"', "jenis_kelamin > 1",         # texts compared with numbers
    "jenis_kelamin == 'X' and True",                # booleans as values
    "sibling(jumlah) > 0", 'sibling(jumlah, agama="X") > 0',
    'sibling(jumlah, jenis_kelamin="X") > 0', "parent(jumlah, jenis_kelamin='L') > 0",
    "parent(1) > 0", "abs(jenis_kelamin) > 0",
    "guru > 0; import os", "guru > (x := 1)", "f'{guru}' == 'x'",
    "", "x" * 600, " + ".join(["guru"] * 60) + " > 0",
])
def test_anything_not_whitelisted_is_refused_with_a_reason(text):
    with pytest.raises(RuleError) as refused:
        _parse(text)
    assert refused.value.code == "invalid_rule" and refused.value.message


def test_compiled_sql_carries_every_name_and_text_as_a_parameter():
    rule = _parse('jenis_kelamin == "L\'; DROP TABLE records; --" or murid / guru <= 60')
    params = [1, [0]]
    sql = compile_rule(rule, MEASURES, params, _lookup(True))
    assert "DROP" not in sql and "murid" not in sql and "60" not in sql
    assert "NULLIF" in sql  # division by zero is a missing value, not an error
    assert params[2:] == ["jenis_kelamin", "L'; DROP TABLE records; --", "murid", "guru", "60"]


def test_modified_z_score_flags_a_tenfold_value_with_its_spread():
    hit = flag(1010, [100, 104, 98, 101, 103], 3.5, "history")
    assert hit and hit["med"] == 101 and hit["mad"] == 2
    assert flag(106, [100, 104, 98, 101, 103], 3.5, "history") is None
    assert flag(500, [100, 100, 100, 100], 3.5, "history") is None  # no spread: no verdict
