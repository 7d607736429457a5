"""The search cursor: the one place it is encoded and decoded (a shared keyset codec can
replace `encode`/`decode` without touching the query parts)."""

from __future__ import annotations

import base64
import hashlib
import json

from services.search.models import MODES, RANKED, Cursor, Filters
from shared.errors import BadRequest


def query_hash(q: str, f: Filters) -> str:
    raw = json.dumps([q, f.__dict__], sort_keys=True, default=str)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def encode_cursor(c: Cursor) -> str:
    raw = json.dumps({"s": c.score, "i": c.doc_id, "n": c.snapshot, "h": c.query_hash,
                      "m": c.mode})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, expected_hash: str) -> Cursor:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        cursor = Cursor(score=float(raw["s"]), doc_id=str(raw["i"]), snapshot=int(raw["n"]),
                        query_hash=str(raw["h"]), mode=str(raw.get("m", RANKED)))
        if cursor.mode not in MODES:
            raise ValueError(cursor.mode)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadRequest("Kursor tidak valid.", code="invalid_cursor") from exc
    if cursor.query_hash != expected_hash:
        raise BadRequest("Kursor ini milik pencarian lain; mulai lagi dari halaman pertama.",
                         code="invalid_cursor")
    return cursor
