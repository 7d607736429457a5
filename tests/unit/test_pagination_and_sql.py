"""The one cursor codec and the WHERE builder (shared/pagination.py, shared/sql.py)."""

import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import BadRequest
from shared.pagination import decode_cursor, encode_cursor, page, text
from shared.sql import Where


@given(st.text(), st.integers(-2**62, 2**62), st.uuids())
def test_a_cursor_decodes_to_what_was_encoded(s, n, u):
    assert decode_cursor(encode_cursor(s, n, u), 3, [text, int, uuid.UUID]) == (s, n, u)


@pytest.mark.parametrize("bad", ["!!", "e30", encode_cursor(1, 2), encode_cursor("x", "y"),
                                 encode_cursor(5, "not-a-uuid")])
def test_anything_else_is_the_one_invalid_cursor_error(bad):
    with pytest.raises(BadRequest) as caught:
        decode_cursor(bad, 2, [text, uuid.UUID])
    assert caught.value.code == "invalid_cursor"


def test_page_cuts_at_the_limit_and_points_after_the_last_row():
    moment = datetime(2026, 11, 28, tzinfo=timezone.utc)
    rows = [{"at": moment, "id": i} for i in range(4)]
    items, cursor = page(rows, 3, lambda r: (r["at"].isoformat(), r["id"]))
    assert [r["id"] for r in items] == [0, 1, 2]
    assert decode_cursor(cursor, 2, [datetime.fromisoformat, int]) == (moment, 2)
    assert page(rows[:3], 3, lambda r: (r["id"],)) == (rows[:3], None)


def test_where_numbers_its_parameters():
    where = Where("a = {}", 1).add("b IS NOT NULL").add("(c, d) > ({}, {})", "x", "y")
    assert where.sql == "WHERE a = $1 AND b IS NOT NULL AND (c, d) > ($2, $3)"
    assert where.param(10) == "$4"
    assert where.args == [1, "x", "y", 10]
    assert Where().sql == ""
