"""The walidata's decisions on held values: verify (the value becomes a new version through
the same path as any applied chunk, so its event reaches search, the change feed, exports and
aggregates in one step) or return it to its publisher with a note. One by one or in bulk."""

from __future__ import annotations

import uuid

import asyncpg

from services.registry.conflicts import service as conflicts
from services.registry.datasets.service import get_dataset
from services.registry.records import service as records
from services.registry.records.service import ValidRow, dims_key
from services.registry.verification import marks, store
from services.registry.verification.service import BULK_MAX, held_public
from shared.auth import Principal
from shared.errors import BadRequest, Conflict, NotFound


async def _select(conn: asyncpg.Connection, q: dict) -> list[dict]:
    filters = {k: v for k, v in q.items() if v is not None and k != "dataset"}
    if q.get("dataset"):
        filters["dataset_id"] = (await get_dataset(conn, q["dataset"],
                                                   allow_retracted=True))["id"]
    if not filters.get("ids") and "dataset_id" not in filters:
        raise BadRequest("Sebutkan nilai yang diputuskan (ids) atau datasetnya (dataset, "
                         "boleh dengan period dan kecamatan).", code="decision_scope_required")
    return await store.lock_held(conn, filters, BULK_MAX)


async def _apply(conn: asyncpg.Connection, rows: list[dict], reason: str
                 ) -> tuple[dict, list[tuple[str, list[dict]]]]:
    """Held values as new master versions, grouped as they were submitted; returns the new
    record ids and the changed rows, published by the caller once the holds are decided
    (so their events no longer carry the mark "sedang diverifikasi")."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset_id"], r["dataset"], r["publisher_id"],
                           r["submission_id"]), []).append(r)
    applied: dict[uuid.UUID, uuid.UUID] = {}
    published: list[tuple[str, list[dict]]] = []
    for (dataset_id, slug, publisher_id, submission_id), members in groups.items():
        await records.stage_rows(conn, [
            ValidRow(index=n, region_code=r["region_code"], period=r["period"],
                     dims=r["dims"], values=r["vals"]) for n, r in enumerate(members)])
        changed = await records.apply_staged(conn, dataset_id, list(range(len(members))),
                                             publisher_id, submission_id, reason=reason)
        await conflicts.supersede_conflicts(conn, [c["id"] for c in changed])
        published.append((slug, changed))
        by_key = {(c["region_code"], c["period"], dims_key(c["dims"])): c["id"]
                  for c in changed}
        for r in members:
            found = by_key.get((r["region_code"], r["period"], r["dims_key"]))
            if found:
                applied[r["id"]] = found
    return applied, published


async def decide(conn: asyncpg.Connection, principal: Principal, action: str, q: dict,
                 note: str | None) -> dict:
    """``action`` 'verify' or 'return' on the held values ``q`` selects."""
    rows = await _select(conn, q)
    if not rows:
        if q.get("ids") and len(q["ids"]) == 1:
            raise Conflict("Nilai ini tidak sedang menunggu verifikasi (sudah diputuskan atau "
                           "diganti).", code="held_value_not_open")
        raise NotFound("Tidak ada nilai yang menunggu verifikasi untuk pilihan ini.",
                       code="nothing_held")
    by = principal.publisher_id
    applied: dict = {}
    published: list[tuple[str, list[dict]]] = []
    if action == "verify":
        reason = f"Diverifikasi walidata ({by})" + (f": {note}" if note else "")
        applied, published = await _apply(conn, rows, reason)
    await store.decide(conn, [r["id"] for r in rows],
                       "verified" if action == "verify" else "returned", by, note, applied)
    for slug, changed in published:
        await records.publish_records(conn, slug, changed)
    unchanged = [r for r in rows if r["id"] not in applied]  # returned, or no new version
    for dataset_id in {r["dataset_id"] for r in unchanged}:  # the old value loses its mark
        await marks.resend_current(conn, dataset_id,
                                   [r for r in unchanged if r["dataset_id"] == dataset_id])
    decided = await store.list_held(conn, {"ids": [r["id"] for r in rows]}, None, BULK_MAX)
    return {"decided": len(decided), "status": "verified" if action == "verify" else "returned",
            "items": [held_public(r, None) for r in decided]}
