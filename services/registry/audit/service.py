"""Audit use cases: append an entry (called by the other topics' use cases, in their
transaction), read the log a keyset page at a time, and recompute the hash chains (record
versions per record, the current records against their newest version, the audit log):
what ``satudata verify`` reports."""

from __future__ import annotations

import contextvars
from typing import Any

import asyncpg

from services.registry.audit import store
from shared.auth import Principal

# whether the request's own use case already wrote its (richer) entry: see ``web.AuditedConn``
_recorded: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_recorded", default=False)
from shared.logging import request_id_var
from shared.pagination import decode_cursor, page


async def record(conn: asyncpg.Connection, principal: Principal, action: str,
                 target: str | None, details: dict[str, Any] | None = None) -> dict:
    """Append one entry (who, what, when, from where) to the chain; the caller commits."""
    _recorded.set(True)
    return await store.append(conn, actor=principal.publisher_id, key_id=principal.key_id,
                              role=principal.role, action=action, target=target,
                              details=details or {}, client_addr=principal.client_addr,
                              request_id=request_id_var.get())


async def list_entries(conn: asyncpg.Connection, *, action: str | None, actor: str | None,
                       target: str | None, cursor: str | None, limit: int
                       ) -> tuple[list[dict], str | None]:
    """Newest first, keyset on the entry id."""
    before = decode_cursor(cursor, 1, [int])[0] if cursor else None
    rows = await store.entries(conn, action=action, actor=actor, target=target,
                               before=before, limit=limit + 1)
    return page(rows, limit, lambda r: (r["id"],))


async def verify(conn: asyncpg.Connection, *, limit: int = 100) -> dict:
    """Every break found (at most ``limit`` of each kind), set-based in the database with
    the same functions the apply SQL uses. ``ok`` is true when there is none."""
    versions, legacy = await store.version_breaks(conn, limit)
    heads = await store.head_breaks(conn, limit)
    audit = await store.audit_breaks(conn, limit)
    totals = await store.counts(conn)
    for row in versions + heads:
        row["record_id"] = str(row["record_id"])
    return {"ok": not (versions or heads or audit), **totals, "legacy_verified_notes": legacy,
            "record_version_breaks": versions, "record_head_breaks": heads,
            "audit_breaks": audit}
