"""Opaque keyset cursors: the last row's sort key, as URL-safe base64 JSON."""

from __future__ import annotations

import base64
import json

from shared.errors import BadRequest


def encode_cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> tuple:
    """The ``size`` parts of a cursor from ``encode_cursor``; 400 ``invalid_cursor`` otherwise."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != size:
            raise ValueError("wrong shape")
    except Exception as exc:  # noqa: BLE001 - any garbage is the same client error
        raise BadRequest("Kursor halaman tidak valid.", code="invalid_cursor") from exc
    return tuple(parts)
