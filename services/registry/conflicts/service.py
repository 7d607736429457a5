"""Conflicts: a publisher's value that disagrees with the master, opened by a submission and
settled by the walidata (accept: the proposed value becomes the next version; reject)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.registry.audit import service as audit
from services.registry.conflicts import store
from services.registry.datasets.service import get_dataset
from services.registry.privacy import service as privacy
from services.registry.records import service as records
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.pagination import decode_cursor, page

# what the apply path does to conflicts, set-based over the staged chunk
from services.registry.conflicts.store import (  # noqa: E402,F401
    open_conflicts, supersede_agreeing, supersede_conflicts)


def conflict_public(row: dict) -> dict:
    return {
        "id": row["id"], "dataset": row["dataset"], "record_id": row["record_id"],
        "region_code": row["region_code"], "region_name": row["region_name"],
        "period": row["period"], "dimensions": row["dims"], "status": row["status"],
        "base_version": row["base_version"], "record_version": row["record_version"],
        "stale": row["status"] == "open" and row["record_version"] != row["base_version"],
        "current": {"values": row["current_vals"], "publisher_id": row["current_publisher"],
                    "publisher_name": row["current_publisher_name"]},
        "proposed": {"values": row["proposed_vals"], "publisher_id": row["proposed_publisher"],
                     "publisher_name": row["proposed_publisher_name"],
                     "submission_id": row["submission_id"]},
        "created_at": row["created_at"], "resolved_at": row["resolved_at"],
        "resolved_by": row["resolved_by"], "resolution_note": row["resolution_note"],
    }


async def list_conflicts(conn: asyncpg.Connection, principal: Principal, *,
                         dataset: str | None, status: str | None, cursor: str | None,
                         limit: int) -> tuple[list[dict], str | None]:
    """Stewards see every conflict; a publisher sees those where it is one of the sides."""
    dataset_id = (await get_dataset(conn, dataset))["id"] if dataset else None
    after = decode_cursor(cursor, 2, [datetime.fromisoformat, uuid.UUID]) if cursor else None
    rows = await store.list_conflicts(
        conn, dataset_id=dataset_id, status=status, after=after, limit=limit + 1,
        publisher_id=None if principal.is_steward else principal.publisher_id)
    rows, next_cursor = page(rows, limit, lambda r: (r["created_at"].isoformat(), r["id"]))
    return await privacy.mask_conflicts(conn, [conflict_public(r) for r in rows],
                                        principal), next_cursor


async def get_conflict(conn: asyncpg.Connection, principal: Principal,
                       conflict_id: uuid.UUID) -> dict:
    row = await store.get_conflict(conn, conflict_id)
    if row is None or not (principal.is_steward or principal.publisher_id in (
            row["proposed_publisher"], row["current_publisher"])):
        raise NotFound("Perselisihan data tidak ditemukan.", code="conflict_not_found")
    return (await privacy.mask_conflicts(conn, [conflict_public(row)], principal))[0]


async def _open_conflict(conn: asyncpg.Connection, conflict_id: uuid.UUID) -> dict:
    row = await store.get_conflict(conn, conflict_id, lock=True)
    if row is None:
        raise NotFound("Perselisihan data tidak ditemukan.", code="conflict_not_found")
    if row["status"] != "open":
        raise Conflict(f"Perselisihan ini sudah berstatus {row['status']}.",
                       code="conflict_not_open")
    return row


async def accept_conflict(conn: asyncpg.Connection, principal: Principal,
                          conflict_id: uuid.UUID, note: str | None) -> dict:
    """The proposed values become the master's next version (record_versions.conflict_id),
    refused when the record changed since the conflict was opened."""
    row = await _open_conflict(conn, conflict_id)
    if row["record_version"] != row["base_version"]:
        raise Conflict(
            f"Nilai induk sudah berubah sejak perselisihan dibuka (versi {row['base_version']} "
            f"menjadi versi {row['record_version']}, nilai kini {row['record_vals']}). Tinjau "
            "nilai terbaru: tolak perselisihan ini, atau minta produsen mengirim ulang.",
            code="conflict_stale",
            details=[{"base_version": row["base_version"],
                      "record_version": row["record_version"],
                      "current_values": row["record_vals"]}])
    changed = await records.new_version(
        conn, row["record_id"], status="current", vals=row["proposed_vals"],
        publisher_id=row["proposed_publisher"], submission_id=row["submission_id"],
        conflict_id=row["id"])
    await store.resolve_conflict(conn, conflict_id, "accepted", principal.publisher_id, note)
    await store.supersede_conflicts(conn, [row["record_id"]])
    await records.publish_records(conn, row["dataset"], [changed])
    await audit.record(conn, principal, "conflict.accept", str(conflict_id), {"note": note})
    return conflict_public(await store.get_conflict(conn, conflict_id))


async def reject_conflict(conn: asyncpg.Connection, principal: Principal,
                          conflict_id: uuid.UUID, note: str) -> dict:
    await _open_conflict(conn, conflict_id)
    await store.resolve_conflict(conn, conflict_id, "rejected", principal.publisher_id, note)
    await audit.record(conn, principal, "conflict.reject", str(conflict_id), {"note": note})
    return conflict_public(await store.get_conflict(conn, conflict_id))
