"""Query parsing, Indonesian affix variants and cursors of the search service (no I/O)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from services.search.models import Cursor, Filters
from services.search.cursor import decode_cursor, encode_cursor, query_hash
from services.search.query_text import affix_variants, parse_words, words_of
from shared.errors import BadRequest


def test_words_are_lowercased_accent_folded_and_capped():
    assert words_of("Penduduk  Sangatta-Utara, 2024!") == ["penduduk", "sangatta", "utara",
                                                           "2024"]
    assert words_of("Désa Kombéng") == ["desa", "kombeng"]
    assert len(words_of("a " * 50)) == 12


def test_ke_an_circumfix_is_tried_both_ways():
    assert "penduduk" in affix_variants("kependudukan")
    assert "kependudukan" in affix_variants("penduduk")
    assert affix_variants("2024") == ["2024"]


def test_typo_corrections_join_the_typed_word_as_alternatives():
    q = parse_words("penduduk sangata utara", True, {"sangata": ["sangatta"]})
    assert q.groups[1][0] == "sangata" and "sangatta" in q.groups[1]
    assert q.corrected == "penduduk sangatta utara"
    assert q.prefix == "utara"


def test_a_prefix_that_begins_a_known_word_is_not_corrected_as_a_typo():
    fixes = {"puskes": ["puskesmas", "pustu"]}  # trigram neighbours, "pustu" among them
    q = parse_words("puskes", True, fixes, begins={"puskes"})
    assert q.prefix == "puskes" and not {"puskesmas", "pustu"} & set(q.groups[0])
    # typed whole (or beginning no known word) it is a typo, corrected as before
    assert "pustu" in parse_words("puskes ", True, fixes, begins={"puskes"}).groups[0]
    assert "pustu" in parse_words("puskes", True, fixes).groups[0]
    # only the word being typed: an earlier one is whole, and corrected
    q = parse_words("sangata utara", True, {"sangata": ["sangatta"]}, begins={"sangata"})
    assert "sangatta" in q.groups[0]


def test_trailing_space_turns_prefix_matching_off():
    assert parse_words("sangatta ", True, {}).prefix is None
    assert parse_words("sangatta", False, {}).prefix is None
    assert parse_words("   ", True, {}).empty


@given(st.text(max_size=80))
def test_groups_only_hold_safe_lexemes(text):
    q = parse_words(text, True, {})
    for group in q.groups:
        for alternative in group:  # a word, or words spelled out in order ("a <-> b")
            for word in alternative.split(" <-> "):
                assert word.isalnum() and word.isascii()


def test_cursor_round_trips_and_is_bound_to_its_query():
    h = query_hash("sekolah", Filters(kind="record"))
    c = Cursor(score=1.2345678901234567, doc_id="record:abc", snapshot=42, query_hash=h)
    assert decode_cursor(encode_cursor(c), h) == c
    with pytest.raises(BadRequest):
        decode_cursor(encode_cursor(c), query_hash("sekolah", Filters(kind="region")))
    with pytest.raises(BadRequest):
        decode_cursor("!!not-base64", h)


def test_question_and_filler_words_are_dropped_and_preferences_kept():
    q = parse_words("berapa penduduk laki-laki di desa kaubun tahun 2024", True, {})
    assert q.text == "penduduk laki kaubun 2024"
    assert q.level == 4 and q.year == "2024" and q.sex == "Laki-laki"
    assert set(q.ignored) == {"berapa", "di", "desa", "tahun"}
    assert "warga" in q.groups[0] and "pria" in q.groups[1]


def test_level_word_alone_is_still_searched():
    q = parse_words("kecamatan", True, {})
    assert q.text == "kecamatan" and q.level is None


def test_a_complete_known_last_word_is_not_a_prefix():
    assert parse_words("sekolah", True, {}, complete={"sekolah"}).prefix is None
    assert parse_words("sekol", True, {}, complete={"sekolah"}).prefix == "sekol"


def test_a_year_typed_last_is_not_a_prefix():
    assert parse_words("penduduk sangatta 2024", True, {}).prefix is None
    assert parse_words("penduduk sangatta 202", True, {}).prefix == "202"


def test_school_levels_are_kinds_of_sekolah_not_one_another():
    sma = parse_words("sma", False, {}).groups[0]
    assert "sekolah" not in sma and "sd" not in sma and "smp" not in sma
    assert "sekolah <-> menengah <-> atas" in sma
    sekolah = parse_words("sekolah", False, {}).groups[0]
    assert {"sd", "mi", "smp", "mts", "sma", "ma", "smk"} <= set(sekolah)


def test_a_name_spelled_out_is_one_word_matched_as_its_abbreviation():
    q = parse_words("sekolah menengah atas kombeng", True, {})
    assert q.labels == ("sekolah menengah atas", "kombeng") and q.groups[0][0] == "sma"
    assert q.text == "sekolah menengah atas kombeng"  # names are still compared as typed
    q = parse_words("jumlah sekolah dasar", True, {})
    assert q.labels == ("jumlah", "sekolah dasar") and q.prefix is None


def test_the_regency_short_name_and_common_words_for_age_income_and_poverty():
    q = parse_words("kab. kutim", True, {})
    assert q.text == "kutai timur" and q.level == 2
    assert words_of("data nakes") == ["data", "tenaga", "kesehatan"]
    assert "usia" in parse_words("umur", False, {}).groups[0]
    assert "penghasilan" in parse_words("pendapatan", False, {}).groups[0]
    assert "miskin" in parse_words("kemiskinan", False, {}).groups[0]
