"""The master-record rules, pure: what a submitted row does to the master record it meets.

- no master record yet: ``create``;
- the same values: ``unchanged`` (and a publisher other than the current one that now agrees
  withdraws its open disagreement: ``agreeing``);
- different values from the dataset's authority (an authoritative publisher, or the walidata)
  or from the publisher that wrote the current value (correcting itself): ``update``;
- different values from anyone else: ``conflict``, for the walidata to settle;
- a current value the publisher may not see (a sensitive dataset's hidden cell another
  publisher sent): ``update`` from the authority, ``conflict`` from anyone else, *whether or not
  the values are equal*, so the outcome is never an oracle for the hidden value (the authority's
  equal value is a new version naming it; an equal proposal is a conflict the walidata closes).

No database here: the staged rows come in as plain values, so these rules are tested on
their own (tests/unit/test_record_classification.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Mapping

Change = Literal["create", "update", "unchanged", "conflict"]
# what a signed receipt says became of a row, by change
OUTCOME: dict[str, str] = {"create": "created", "update": "updated", "unchanged": "unchanged",
                           "conflict": "conflict"}


@dataclass(frozen=True)
class Meeting:
    """One staged row next to the master record with its key, if any."""

    idx: int
    exists: bool
    same: bool = False
    current_publisher: str | None = None
    hidden: bool = False  # the current value is hidden from this publisher

    @classmethod
    def of(cls, row: Mapping, hidden: bool = False) -> "Meeting":
        return cls(idx=row["idx"], exists=row["record_id"] is not None, same=bool(row["same"]),
                   current_publisher=row["current_publisher"], hidden=hidden)


def classify(row: Meeting, *, publisher_id: str, authoritative: bool) -> Change:
    if not row.exists:
        return "create"
    if row.hidden and row.current_publisher != publisher_id:
        return "update" if authoritative else "conflict"
    if row.same:
        return "unchanged"
    if authoritative or row.current_publisher == publisher_id:
        return "update"
    return "conflict"


@dataclass
class Plan:
    """What a chunk does: the rows to write as new versions, the rows that open a conflict,
    the rows whose publisher now agrees with the master, and each row's change."""

    changes: dict[int, Change] = field(default_factory=dict)
    to_apply: list[int] = field(default_factory=list)
    to_conflict: list[int] = field(default_factory=list)
    agreeing: list[int] = field(default_factory=list)

    def count(self, change: Change) -> int:
        return sum(1 for c in self.changes.values() if c == change)

    def outcomes(self) -> dict[str, list[int]]:
        """Row indexes by receipt outcome (created, updated, unchanged, conflict)."""
        out: dict[str, list[int]] = {}
        for idx, change in sorted(self.changes.items()):
            out.setdefault(OUTCOME[change], []).append(idx)
        return out


def plan(rows: Iterable[Meeting], *, publisher_id: str, authoritative: bool) -> Plan:
    out = Plan()
    for row in rows:
        change = classify(row, publisher_id=publisher_id, authoritative=authoritative)
        out.changes[row.idx] = change
        if change in ("create", "update"):
            out.to_apply.append(row.idx)
        elif change == "conflict":
            out.to_conflict.append(row.idx)
        elif row.current_publisher != publisher_id:
            out.agreeing.append(row.idx)
    return out
