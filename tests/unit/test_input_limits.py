"""No 5xx from any input: text and numbers are refused with a reason before the database."""

import math

import pytest
from pydantic import ValidationError

from services.registry.access import models
from services.registry.datasets.models import DatasetCreate, DatasetUpdate
from shared.contracts import MeasureSpec
from services.registry.records.validation import _coerce_measure
from services.gateway.middleware import unsafe_path


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", math.inf, "1e309", 10**20])
def test_a_measure_that_is_not_a_finite_number_in_range_is_rejected(raw):
    assert _coerce_measure(MeasureSpec(name="jumlah", label="Jumlah", type="integer"), raw, "id")[1] in (
        "not_a_number", "out_of_range")


@pytest.mark.parametrize("raw,code", [("x" * 2001, "text_too_long"),
                                      ("a\x00b", "invalid_characters")])
def test_a_text_measure_is_bounded_and_free_of_control_characters(raw, code):
    assert _coerce_measure(MeasureSpec(name="catatan", label="Catatan", type="text"), raw, "id")[1] == code


def test_text_fields_publish_their_limits_and_refuse_control_characters():
    schema = DatasetCreate.model_json_schema()["properties"]
    assert schema["title"]["maxLength"] == 200
    assert schema["description"]["maxLength"] == 10_000
    base = {"slug": "contoh", "schema": {"measures": [{"name": "n", "label": "N"}]}}
    for bad in ({"title": "a" * 201}, {"title": "ab\x00c"}, {"title": "x", "metadata":
                                                             {"k": float("nan")}}):
        with pytest.raises(ValidationError):
            DatasetCreate.model_validate({**base, "title": "T", **bad})
    measure = {"name": "n", "label": "N", "max": float("inf")}
    with pytest.raises(ValidationError):
        MeasureSpec.model_validate(measure)


def test_explicit_null_in_a_patch_is_refused_and_absence_is_not():
    with pytest.raises(ValidationError):
        DatasetUpdate.model_validate({"title": None})
    with pytest.raises(ValidationError):
        models.PublisherUpdate.model_validate({"datasets": None})
    assert DatasetUpdate.model_validate({}).model_dump(exclude_unset=True) == {}


@pytest.mark.parametrize("path", [b"/v1/a/../b", b"/v1/%2e%2e/x", b"/v1/a%2Fb", b"/v1/a%5cb",
                                  b"/v1/./a", b"/v1//a", b"/v1/a%00", b"/v1/a\x01"])
def test_unsafe_paths_are_recognised(path):
    assert unsafe_path(path)


def test_ordinary_paths_pass():
    assert not unsafe_path(b"/v1/datasets/jumlah-penduduk/records")
    assert not unsafe_path(b"/v1/search")
