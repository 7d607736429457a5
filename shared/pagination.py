"""One keyset cursor codec for every list: the last row's sort key, as URL-safe base64 JSON.

Every list answers ``{"items": [...], "next_cursor": "..." | null}``; a client sends
``next_cursor`` back as ``cursor``. A cursor that does not decode is one error,
``invalid_cursor`` (400), with one message.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable, Generic, Sequence, TypeVar

from pydantic import BaseModel, Field

from shared.errors import BadRequest

NEXT_CURSOR = "pass as ?cursor= for the next page; null on the last page"
T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """The shape of every list answer: ``class RecordsPublic(Page[RecordPublic])`` (a named
    subclass keeps the OpenAPI schema's name); a list that is always one page says so by
    overriding ``next_cursor``'s description."""

    items: list[T]
    next_cursor: str | None = Field(None, description=NEXT_CURSOR)


def invalid_cursor() -> BadRequest:
    return BadRequest("Kursor halaman tidak valid; mulai lagi dari halaman pertama "
                      "(tanpa parameter cursor).", code="invalid_cursor")


def encode_cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int,
                  parse: Sequence[Callable[[Any], Any]] | None = None) -> tuple:
    """The ``size`` parts of a cursor from ``encode_cursor``, each passed through its ``parse``
    function (``uuid.UUID``, ``datetime.fromisoformat``...); 400 ``invalid_cursor`` otherwise."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != size:
            raise ValueError("wrong shape")
        if parse is not None:
            parts = [f(p) for f, p in zip(parse, parts)]
    except Exception as exc:  # noqa: BLE001 - any garbage is the same client error
        raise invalid_cursor() from exc
    return tuple(parts)


def text(value: Any) -> str:
    """A cursor part that must be a string (``parse`` for text sort keys)."""
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def page(rows: list, limit: int, key: Callable[[Any], tuple]) -> tuple[list, str | None]:
    """``rows`` fetched with ``limit + 1``: the page and the cursor after it (None at the end)."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(*key(rows[-1]))
