"""Recompute the hash chains: record versions (per record), the current records against
their newest version, and the audit log. What ``satudata verify`` reports."""

from __future__ import annotations

import asyncpg

from services.registry.audit import store


async def verify(conn: asyncpg.Connection, *, limit: int = 100) -> dict:
    """Every break found (at most ``limit`` of each kind), set-based in the database with
    the same functions the apply SQL uses. ``ok`` is true when there is none."""
    versions = await store.version_breaks(conn, limit)
    heads = await store.head_breaks(conn, limit)
    audit = await store.audit_breaks(conn, limit)
    totals = await store.counts(conn)
    for row in versions + heads:
        row["record_id"] = str(row["record_id"])
    return {"ok": not (versions or heads or audit), **totals,
            "record_version_breaks": versions, "record_head_breaks": heads,
            "audit_breaks": audit}
