"""API models of the cross-topic use cases: records moved to the code in force in their
period (``relocation.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field

from services.registry.models import Open, Strict
from shared.validation import Code, Note


class Misplaced(Open):
    record_id: uuid.UUID
    dataset: str
    region_code: str = Field(description="the code it is stored under, not yet in force in "
                             "its period")
    period: str
    dimensions: dict[str, Any]
    values: dict[str, Any]
    publisher_id: str
    candidates: list[str] = Field(description="the codes it came from that were in force in "
                                  "its period")
    target: str | None = Field(description="where a move takes it when `to` is not given "
                               "(the one candidate; null when there are several or none)")


class MisplacedList(Open):
    items: list[Misplaced]


class Move(Strict):
    record_id: uuid.UUID
    to: Code | None = Field(None, description="one of the record's candidates (default: its "
                            "target)")


class MoveRequest(Strict):
    moves: list[Move] = Field(min_length=1, max_length=1000)
    note: Note | None = Field(None, description="added to each move's reason")


class Moved(Open):
    record_id: uuid.UUID
    from_code: str
    to: str
    new_record_id: uuid.UUID | None = None
    held: bool = Field(description="the value waits for verification under its new code")
    rejected: list[str] = Field(description="why the apply path refused it, if it did")


class MoveRefused(Open):
    record_id: uuid.UUID
    code: str
    message: str


class MoveResult(Open):
    moved: list[Moved]
    refused: list[MoveRefused]
