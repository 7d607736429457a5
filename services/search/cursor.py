"""The search cursor: the shared keyset codec (shared.pagination) with search's named parts:
the last hit's score and id, the index snapshot, the query it belongs to, and its mode."""

from __future__ import annotations

import hashlib
import json

from services.search.models import MODES, Cursor, Filters
from shared import pagination


def query_hash(q: str, f: Filters) -> str:
    raw = json.dumps([q, f.__dict__], sort_keys=True, default=str)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def _mode(value) -> str:
    if value not in MODES:
        raise ValueError(value)
    return value


def encode_cursor(c: Cursor) -> str:
    return pagination.encode_cursor(c.score, c.doc_id, c.snapshot, c.query_hash, c.mode)


def decode_cursor(token: str, expected_hash: str) -> Cursor:
    """The cursor of this query and these filters; one of another query is the same
    ``invalid_cursor`` as garbage."""
    score, doc_id, snapshot, qhash, mode = pagination.decode_cursor(
        token, 5, [float, pagination.text, int, pagination.text, _mode])
    if qhash != expected_hash:
        raise pagination.invalid_cursor()
    return Cursor(score=score, doc_id=doc_id, snapshot=snapshot, query_hash=qhash, mode=mode)
