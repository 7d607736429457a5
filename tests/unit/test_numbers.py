"""Measures written as text, read by locale: the decision table and the parser's properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.numbers import NumberRefused, format_number, parse_measure

# written, then (id integer, id decimal, en integer, en decimal): a value, or a refusal code.
TABLE = {
    "2.000":   (2000, 2000.0, "number_ambiguous", 2.0),
    "2,5":     ("not_an_integer", 2.5, "number_format", "number_format"),
    "1.234,5": ("not_an_integer", 1234.5, "number_format", "number_format"),
    "1,234.5": ("number_format", "number_format", "not_an_integer", 1234.5),
    "1.5":     ("number_format", "number_format", "not_an_integer", 1.5),
    "1,234":   ("number_ambiguous", 1.234, 1234, 1234.0),
    "3,000":   ("number_ambiguous", 3.0, 3000, 3000.0),
    "-7":      (-7, -7.0, -7, -7.0),
    "1e3":     ("not_a_number", "not_a_number", "not_a_number", "not_a_number"),
    " 12 ":    (12, 12.0, 12, 12.0),
    "12 jiwa": ("not_a_number", "not_a_number", "not_a_number", "not_a_number"),
    "1.234.567": (1234567, 1234567.0, "number_format", "number_format"),
    "1234,5":  ("not_an_integer", 1234.5, "number_format", "number_format"),
    "abc":     ("not_a_number", "not_a_number", "not_a_number", "not_a_number"),
}
CASES = [(written, locale, kind, expected)
         for written, outcomes in TABLE.items()
         for (locale, kind), expected in zip(
             [("id", "integer"), ("id", "decimal"), ("en", "integer"), ("en", "decimal")],
             outcomes)]


@pytest.mark.parametrize("written, locale, kind, expected", CASES)
def test_decision_table(written, locale, kind, expected):
    if isinstance(expected, str):
        with pytest.raises(NumberRefused) as refused:
            parse_measure(written, kind=kind, locale=locale, name="jumlah")
        assert refused.value.code == expected
        assert "jumlah" in refused.value.message and "Nilai" in refused.value.message
        return
    value = parse_measure(written, kind=kind, locale=locale, name="jumlah")
    assert value == expected and type(value) is type(expected)


def test_ambiguous_refusal_names_both_readings_in_indonesian():
    with pytest.raises(NumberRefused) as refused:
        parse_measure("3,000", kind="integer", locale="id", name="jumlah")
    assert "meragukan" in refused.value.message and "3.000" in refused.value.message


@pytest.mark.parametrize("raw, kind, expected", [
    (2000, "integer", 2000), (2.0, "integer", 2), (2.5, "decimal", 2.5), (1e3, "integer", 1000),
])
def test_numbers_that_arrive_as_numbers_are_taken_as_they_are(raw, kind, expected):
    for locale in ("id", "en"):
        assert parse_measure(raw, kind=kind, locale=locale) == expected


@pytest.mark.parametrize("raw", [True, None, float("nan"), float("inf"), [1], {"a": 1}])
def test_non_numbers_are_refused_not_crashed(raw):
    with pytest.raises(NumberRefused):
        parse_measure(raw, kind="decimal")


@given(st.integers(-10**15, 10**15), st.sampled_from(["id", "en"]), st.booleans())
def test_integers_as_written_in_their_locale_read_back(n, locale, grouped):
    written = format_number(n, locale, grouped=grouped)
    assert parse_measure(written, kind="integer", locale=locale) == n
    assert parse_measure(written, kind="decimal", locale=locale) == float(n)


@given(st.decimals(min_value=-10**9, max_value=10**9, places=3, allow_nan=False,
                   allow_infinity=False), st.sampled_from(["id", "en"]))
def test_decimals_as_written_in_their_locale_read_back(value, locale):
    written = format_number(value, locale)
    assert Decimal(str(parse_measure(written, kind="decimal", locale=locale))) == \
        Decimal(str(float(value)))


@given(st.integers(1000, 10**12), st.sampled_from(["id", "en"]))
def test_an_integer_written_the_other_way_is_never_stored_with_another_magnitude(n, locale):
    other = "en" if locale == "id" else "id"
    written = format_number(n, other)  # grouped the way the other locale groups
    try:
        value = parse_measure(written, kind="integer", locale=locale)
    except NumberRefused:
        return
    assert value == n


@given(st.text(max_size=20), st.sampled_from(["id", "en"]),
       st.sampled_from(["integer", "decimal"]))
def test_any_text_gives_a_value_or_a_refusal(text, locale, kind):
    try:
        value = parse_measure(text, kind=kind, locale=locale)
    except NumberRefused as refused:
        assert refused.code and refused.message
    else:
        assert isinstance(value, int if kind == "integer" else float)
