"""Canonical JSON (RFC 8785, JSON Canonicalization Scheme) for anything that is hashed or
signed (issue 19): the same value always gives the same bytes, in any language."""

from __future__ import annotations

import hashlib
from typing import Any, Iterable

import rfc8785


def canonical(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value (dicts, lists, str, int, float, bool, None)."""
    return rfc8785.dumps(value)


def array_sha256(items: Iterable[Any]) -> tuple[str, int]:
    """SHA-256 (hex) of the canonical JSON array of ``items``, computed as they stream by
    (the bytes equal ``canonical(list(items))``), and how many there were."""
    digest = hashlib.sha256(b"[")
    count = 0
    for item in items:
        if count:
            digest.update(b",")
        digest.update(rfc8785.dumps(item))
        count += 1
    digest.update(b"]")
    return digest.hexdigest(), count
