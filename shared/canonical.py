"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for anything that is hashed or
signed: the same value always gives the same bytes, in any language."""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

import rfc8785


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value (dicts, lists, str, int, float, bool, None)."""
    return rfc8785.dumps(value)


class ArrayDigest:
    """SHA-256 of the canonical JSON array of items fed one at a time (the bytes equal
    ``canonical(list_of_items)``), so a large submission is never held in memory whole."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256(b"[")
        self.count = 0

    def add(self, item: Any) -> None:
        if self.count:
            self._digest.update(b",")
        self._digest.update(rfc8785.dumps(item))
        self.count += 1

    def hexdigest(self) -> str:
        final = self._digest.copy()
        final.update(b"]")
        return final.hexdigest()


def array_sha256(items: Iterable[Any]) -> tuple[str, int]:
    """SHA-256 (hex) of the canonical JSON array of ``items``, and how many there were."""
    digest = ArrayDigest()
    for item in items:
        digest.add(item)
    return digest.hexdigest(), digest.count
