"""Records stored under a successor's code for a period before the change: listed, and moved
by the walidata to the code that was in force then.

An earlier rule followed a retired code to its successor whatever the period, so a 2023 figure
of a village split in 2025 could sit under one of the new codes. The list names each such record
with the codes it came from that were in force in its period; a move writes the same values
under that code through the ordinary apply path (rules, outlier checks, verification, hash
chain, events) as the walidata, withdraws the misplaced record with a reason naming the move,
and leaves an audit entry linking both with the original publisher. A move never overwrites:
where the target already holds a current value for that key, it is refused and listed.
"""

from __future__ import annotations


import asyncpg

from services.registry.audit import service as audit
from services.registry.publishing.apply import apply_rows
from services.registry.publishing.service import retract_record
from services.registry.records import service as records
from shared.auth import Principal


def _target(row: dict) -> str | None:
    """Where a move takes the record unasked: the one code in force in its period."""
    return row["candidates"][0] if len(row["candidates"]) == 1 else None


def _public(row: dict) -> dict:
    return {"record_id": row["id"], "dataset": row["dataset"], "region_code": row["region_code"],
            "period": row["period"], "dimensions": row["dims"], "values": row["vals"],
            "publisher_id": row["publisher_id"], "candidates": list(row["candidates"]),
            "target": _target(row)}


async def misplaced(conn: asyncpg.Connection, dataset: str | None, limit: int) -> list[dict]:
    return [_public(r) for r in await records.before_their_code(conn, dataset=dataset,
                                                                 limit=limit)]


def _refused(record_id, code: str, message: str) -> dict:
    return {"record_id": record_id, "code": code, "message": message}


async def relocate(conn: asyncpg.Connection, steward: Principal, moves: list[dict],
                   note: str | None) -> dict:
    """Each move ``{record_id, to?}``: ``to`` defaults to the one code in force in the
    record's period; every outcome is listed (moved, or refused with why)."""
    found = {r["id"]: r for r in await records.before_their_code(
        conn, record_ids=[m["record_id"] for m in moves], limit=len(moves))}
    moved, refused = [], []
    for move in moves:
        rid, row = move["record_id"], found.get(move["record_id"])
        if row is None:
            refused.append(_refused(rid, "not_misplaced", "Nilai ini tidak tersimpan di kode "
                                    "yang belum berlaku pada periodenya; tidak ada yang dipindah."))
            continue
        target = move.get("to") or _target(row)
        if target is None or target not in row["candidates"]:
            choices = ", ".join(row["candidates"]) or "tidak ada"
            refused.append(_refused(rid, "relocation_target_invalid", f"Pilih kode tujuan yang "
                                    f"berlaku pada periode {row['period']}: {choices}."))
            continue
        taken = await records.current_of(conn, row["dataset_id"], [{
            "region_code": target, "period": row["period"], "dims_key": row["dims_key"]}])
        if any(t["status"] == "current" for t in taken):
            refused.append(_refused(rid, "relocation_target_taken", f"Kode {target} sudah "
                                    f"punya nilai untuk periode {row['period']}; periksa "
                                    "keduanya lalu tarik salah satunya."))
            continue
        moved.append(await _move(conn, steward, row, target, note))
    return {"moved": moved, "refused": refused}


async def _move(conn: asyncpg.Connection, steward: Principal, row: dict, target: str,
                note: str | None) -> dict:
    outcome = await apply_rows(conn, dataset_slug=row["dataset"],
                               publisher_id=steward.publisher_id, rows=[{
                                   "region": target, "period": row["period"], **row["dims"],
                                   **row["vals"]}])
    reason = (f"Dipindahkan ke kode {target}: kode {row['region_code']} belum berlaku pada "
              f"periode {row['period']}." + (f" {note.strip()}" if note else ""))
    await retract_record(conn, steward, row["id"], reason)
    new_ids = [c["id"] for c in outcome.changed]
    await audit.record(conn, steward, "region.relocate", str(row["id"]), {
        "from": row["region_code"], "to": target, "dataset": row["dataset"],
        "period": row["period"], "original_publisher": row["publisher_id"],
        "new_record_ids": [str(i) for i in new_ids], "note": note})
    return {"record_id": row["id"], "from_code": row["region_code"], "to": target,
            "new_record_id": new_ids[0] if new_ids else None,
            "held": bool(outcome.held),
            "rejected": [r.message for r in outcome.rejected]}


