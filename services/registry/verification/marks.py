"""The public mark "sedang diverifikasi" (issue 14) in every channel fed by record events.

A held value does not change the master record, so no new version is sent; the record's
current version is sent again (same version, same values) with ``verification_status``
'sedang_diverifikasi' when a value is held, and again once the hold is decided (a verified
value is a new version anyway; a returned one leaves the old version, which loses the mark).
Search, the gateway's stream and every other reader of the events learn it that way.
"""

from __future__ import annotations

import asyncpg

from services.registry.events import publish_records
from services.registry.records.store import RECORD_SELECT


async def resend_current(conn: asyncpg.Connection, dataset_id: int, keys: list[dict]) -> None:
    """Send again the current records of ``keys`` (region_code, period, dims_key) of one
    dataset, with their mark as it is now inside the caller's transaction."""
    if not keys:
        return
    rows = await conn.fetch(
        f"""{RECORD_SELECT}
            JOIN unnest($2::text[], $3::text[], $4::text[]) AS k(region_code, period, dims_key)
              ON k.region_code = r.region_code AND k.period = r.period
             AND k.dims_key = r.dims_key
            WHERE r.dataset_id = $1 AND d.retracted_at IS NULL""",
        dataset_id, [k["region_code"] for k in keys], [k["period"] for k in keys],
        [k["dims_key"] for k in keys])
    if rows:
        await publish_records(conn, rows[0]["dataset"], [dict(r) for r in rows])
