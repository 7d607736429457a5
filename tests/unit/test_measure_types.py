"""One behaviour table per measure type (shared.contracts.MEASURE_TYPES): every reader asks
it, none compares type names."""

import re
from pathlib import Path

import pytest

from shared.contracts import MEASURE_TYPES, DatasetSchemaV1, MeasureSpec

ROOT = Path(__file__).resolve().parents[2]
READERS = [*sorted((ROOT / "services").rglob("*.py")), *sorted((ROOT / "shared").glob("*.py")),
           *sorted((ROOT / "services" / "gateway" / "static").rglob("*.js"))]
# a type name compared to a value: m.type == "text", spec.type in ("integer", ...), ...
COMPARISON = re.compile(r"""(?:\.type|\[["']type["']\]|get\(["']type["']\))\s*"""
                        r"""(?:[!=]==?|\bin\b|\bnot in\b)\s*[\(\[]?\s*["'](?:integer|"""
                        r"""decimal|text)["']""")


def test_every_type_the_schema_accepts_has_its_behaviour():
    accepted = MeasureSpec.model_json_schema()["properties"]["type"]["enum"]
    assert accepted == list(MEASURE_TYPES)


@pytest.mark.parametrize("kind, additive, numeric, aggregation", [
    ("integer", True, True, "sum"), ("integer", False, True, "per_region"),
    ("decimal", True, True, "sum"), ("decimal", False, True, "per_region"),
    ("text", True, False, "none"), ("text", False, False, "none")])
def test_a_measure_reads_its_behaviour_from_the_table(kind, additive, numeric, aggregation):
    m = MeasureSpec(name="x", label="X", type=kind, additive=additive)
    assert (m.numeric, m.aggregation) == (numeric, aggregation)
    assert m.behaviour is MEASURE_TYPES[kind]


def test_the_derived_fields_a_client_reads_are_accepted_back_and_never_kept():
    sent = {"measures": [{"name": "x", "label": "X", "type": "text", "numeric": True,
                          "aggregation": "sum"}]}
    schema = DatasetSchemaV1.model_validate(sent)
    assert schema.measures[0].numeric is False  # derived from the type, not what was sent
    assert "numeric" not in schema.model_dump()["measures"][0]


def test_no_reader_compares_type_names():
    found = [f"{p.relative_to(ROOT)}:{n}" for p in READERS
             for n, line in enumerate(p.read_text().splitlines(), 1) if COMPARISON.search(line)]
    assert found == []


def test_the_check_would_see_a_comparison():
    assert COMPARISON.search('if spec.type == "text":')
    assert COMPARISON.search('(m) => m.type !== "text"')
    assert COMPARISON.search('if m.type in ("integer", "decimal")')
    assert COMPARISON.search('"numeric" if m.get("type") != "text" else "text"')
