"""The public mark "sedang diverifikasi" in every channel fed by record events.

A held value does not change the master record, so no new version is sent; the record's
current version is sent again (same version, same values) with ``verification_status``
'sedang_diverifikasi' when a value is held, and again once the hold is decided (a verified
value is a new version anyway; a returned one leaves the old version, which loses the mark).
Search, the gateway's stream and every other reader of the events learn it that way.
"""

from __future__ import annotations

import asyncpg

from services.registry.records import service as records


async def resend_current(conn: asyncpg.Connection, dataset_id: int, keys: list[dict]) -> None:
    """Send again the current records of ``keys`` (region_code, period, dims_key) of one
    dataset, with their mark as it is now inside the caller's transaction."""
    rows = await records.current_of(conn, dataset_id, keys)
    if rows:
        await records.publish_records(conn, rows[0]["dataset"], rows)
