"""The master-record rules (services.registry.records.classify), without a database."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.records.classify import Meeting, classify, plan

ME, OTHER = "kec-sangatta-utara", "disdukcapil"


def test_a_key_without_a_master_record_is_created():
    assert classify(Meeting(idx=0, exists=False), publisher_id=ME, authoritative=False) \
        == "create"


def test_the_same_values_change_nothing():
    row = Meeting(idx=0, exists=True, same=True, current_publisher=OTHER)
    assert classify(row, publisher_id=ME, authoritative=True) == "unchanged"


def test_the_authority_overwrites_another_publishers_value():
    row = Meeting(idx=0, exists=True, same=False, current_publisher=OTHER)
    assert classify(row, publisher_id=ME, authoritative=True) == "update"


def test_a_publisher_corrects_its_own_value():
    row = Meeting(idx=0, exists=True, same=False, current_publisher=ME)
    assert classify(row, publisher_id=ME, authoritative=False) == "update"


def test_anyone_else_disagreeing_opens_a_conflict():
    row = Meeting(idx=0, exists=True, same=False, current_publisher=OTHER)
    assert classify(row, publisher_id=ME, authoritative=False) == "conflict"


def test_a_publisher_that_now_agrees_withdraws_its_disagreement():
    chunk = plan([Meeting(idx=0, exists=True, same=True, current_publisher=OTHER),
                  Meeting(idx=1, exists=True, same=True, current_publisher=ME)],
                 publisher_id=ME, authoritative=False)
    assert chunk.agreeing == [0]
    assert chunk.to_apply == [] and chunk.to_conflict == []


def test_meeting_reads_a_staged_row():
    row = {"idx": 3, "record_id": None, "same": None, "current_publisher": None}
    assert Meeting.of(row) == Meeting(idx=3, exists=False, same=False, current_publisher=None)


publishers = st.sampled_from([ME, OTHER, "kec-bengalon", None])
meetings = st.builds(Meeting, idx=st.integers(0, 10_000), exists=st.booleans(),
                     same=st.booleans(), current_publisher=publishers)
chunks = st.lists(meetings, max_size=60, unique_by=lambda m: m.idx)


@given(chunks, st.sampled_from([ME, OTHER]), st.booleans())
def test_every_row_lands_in_exactly_one_place(rows, publisher, authoritative):
    chunk = plan(rows, publisher_id=publisher, authoritative=authoritative)
    written = set(chunk.to_apply) | set(chunk.to_conflict)
    assert len(chunk.to_apply) + len(chunk.to_conflict) == len(written)
    assert set(chunk.changes) == {m.idx for m in rows}
    assert sum(chunk.count(c) for c in ("create", "update", "unchanged", "conflict")) \
        == len(rows)
    assert set(chunk.agreeing) <= {i for i, c in chunk.changes.items() if c == "unchanged"}
    assert written.isdisjoint(chunk.agreeing)


@given(chunks, st.sampled_from([ME, OTHER]))
def test_the_authority_never_opens_a_conflict(rows, publisher):
    assert plan(rows, publisher_id=publisher, authoritative=True).to_conflict == []


@given(meetings, st.sampled_from([ME, OTHER]), st.booleans())
def test_equal_values_are_never_written(row, publisher, authoritative):
    change = classify(row, publisher_id=publisher, authoritative=authoritative)
    if row.exists and row.same:
        assert change == "unchanged"
    if not row.exists:
        assert change == "create"


@given(meetings, st.sampled_from([ME, OTHER]))
def test_authority_only_widens_what_is_applied(row, publisher):
    """Whatever a publisher may write, the authority may write too."""
    plain = classify(row, publisher_id=publisher, authoritative=False)
    strong = classify(row, publisher_id=publisher, authoritative=True)
    if plain in ("create", "update"):
        assert strong == plain
    if plain == "conflict":
        assert strong == "update"


@given(chunks, st.sampled_from([ME, OTHER]), st.booleans())
def test_a_receipt_names_each_row_once_with_what_became_of_it(rows, publisher, authoritative):
    """The per-row outcomes a signed receipt reports, from the same plan."""
    chunk = plan(rows, publisher_id=publisher, authoritative=authoritative)
    outcomes = chunk.outcomes()
    named = [i for idxs in outcomes.values() for i in idxs]
    assert sorted(named) == sorted(m.idx for m in rows)
    assert set(outcomes) <= {"created", "updated", "unchanged", "conflict"}
    assert sorted(outcomes.get("created", []) + outcomes.get("updated", [])) \
        == sorted(chunk.to_apply)
    assert outcomes.get("conflict", []) == sorted(chunk.to_conflict)


@pytest.mark.parametrize("same", [True, False])
def test_a_hidden_current_value_gives_the_same_outcome_whether_or_not_it_is_guessed(same):
    hidden = Meeting(idx=0, exists=True, same=same, current_publisher="disdukcapil",
                     hidden=True)
    assert classify(hidden, publisher_id="kec", authoritative=False) == "conflict"
    assert classify(hidden, publisher_id="dinkes", authoritative=True) == "update"
    # its own value is no secret to the publisher that sent it
    assert classify(hidden, publisher_id="disdukcapil", authoritative=False) == (
        "unchanged" if same else "update")
