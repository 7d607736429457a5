"""Reading master records (a page, one record with its history, the change feed, the
snapshot search rebuilds from) and withdrawing one value with a reason."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.registry.audit import service as audit
from services.registry.datasets.service import get_dataset, retracted_error
from services.registry.events import publish_records, record_event
from services.registry.privacy import view as privacy
from services.registry.records import store
from services.registry.regions import store as regions_store
from services.registry.verification.service import record_decisions
from services.registry.verification import store as verification_store
from shared.auth import Principal
from shared.contracts import DatasetSchemaV1
from shared.errors import BadRequest, Conflict, Forbidden, NotFound
from shared.pagination import decode_cursor, page, text


def record_public(row: dict) -> dict:
    return {"id": row["id"], "dataset": row["dataset"], "region_code": row["region_code"],
            "period": row["period"], "dimensions": row["dims"], "values": row["vals"],
            "version": row["version"], "status": row["status"],
            "publisher_id": row["publisher_id"], "submission_id": row["submission_id"],
            "created_at": row["created_at"], "updated_at": row["updated_at"],
            "verification_status": "sedang_diverifikasi" if row.get("under_verification")
            else "terverifikasi"}


async def list_records(conn: asyncpg.Connection, slug: str, *, region: str | None,
                       period_from: str | None, period_to: str | None, dims: dict[str, str],
                       cursor: str | None, limit: int, reader: Principal | None = None
                       ) -> tuple[list[dict], str | None]:
    """A page of records as ``reader`` may see them (issue 19: a sensitive dataset's small
    counts hidden from the public)."""
    dataset = await get_dataset(conn, slug)
    schema = DatasetSchemaV1.model_validate(dataset["schema"])
    unknown = set(dims) - set(schema.dimension_names)
    if unknown:
        raise BadRequest(f"Filter tidak dikenal: {', '.join(sorted(unknown))}.",
                         code="unknown_filter")
    after = decode_cursor(cursor, 3, [text, text, text]) if cursor else None
    rows = await store.list_records(conn, dataset_id=dataset["id"], region=region,
                                    period_from=period_from, period_to=period_to, dims=dims,
                                    after=after, limit=limit + 1)
    rows, next_cursor = page(rows, limit,
                             lambda r: (r["period"], r["region_code"], r["dims_key"]))
    return await privacy.mask_records(conn, slug, [record_public(r) for r in rows],
                                      reader), next_cursor


async def get_record(conn: asyncpg.Connection, record_id: uuid.UUID,
                     as_of: datetime | None = None, reader: Principal | None = None) -> dict:
    """The record, its ``as_of`` value and its history, as ``reader`` may see them."""
    row = await store.get_record(conn, record_id)
    if row is None:
        raise NotFound("Rekaman tidak ditemukan.", code="record_not_found")
    if row["dataset_retracted_at"] is not None:
        raise retracted_error(f"Data ini (dataset '{row['dataset']}')",
                              {"slug": row["dataset"], "retracted_at": row["dataset_retracted_at"],
                               "retraction_reason": row["dataset_retraction_reason"]})
    history = await store.record_history(conn, record_id)
    out = record_public(row)
    if as_of is not None:
        then = [h for h in history if h["recorded_at"] <= as_of]
        if not then:
            raise NotFound("Rekaman ini belum ada pada tanggal tersebut.",
                           code="record_not_yet_recorded")
        out.update(values=then[-1]["vals"], version=then[-1]["version"],
                   status=then[-1]["status"], publisher_id=then[-1]["publisher_id"],
                   submission_id=then[-1]["submission_id"])
        out["as_of"] = as_of
    out["history"] = [{"version": h["version"], "values": h["vals"], "status": h["status"],
                       "reason": h["reason"],
                       "publisher_id": h["publisher_id"], "submission_id": h["submission_id"],
                       "conflict_id": h["conflict_id"], "recorded_at": h["recorded_at"]}
                      for h in history]
    out["verification"] = await record_decisions(conn, record_id)  # issue 14
    return await privacy.mask_record_detail(conn, out, reader)  # issue 19


async def retract_record(conn: asyncpg.Connection, principal: Principal, record_id: uuid.UUID,
                         reason: str) -> dict:
    """A new version with status ``retracted`` (values kept, so history shows what was
    withdrawn), by the walidata or a publisher authoritative for the dataset whose scope
    holds the region; the record row stays locked until the caller commits."""
    row = await store.lock_record(conn, record_id)
    if row is None:
        raise NotFound("Rekaman tidak ditemukan.", code="record_not_found")
    dataset = await get_dataset(conn, row["dataset"])  # 410 when withdrawn whole
    if not principal.is_steward:
        region = await regions_store.get_region(conn, row["region_code"])
        allowed = (principal.publisher_id in dataset["authoritative"]
                   and region is not None and principal.region_scope in region["path"])
        if not allowed:
            raise Forbidden("Hanya walidata atau produsen data yang berwenang atas dataset "
                            f"{dataset['slug']} yang boleh menarik nilai ini.",
                            code="retract_not_allowed")
    if row["status"] == "retracted":
        raise Conflict("Nilai ini sudah ditarik.", code="record_already_retracted")
    changed = await store.new_version(conn, record_id, status="retracted",
                                      publisher_id=principal.publisher_id,
                                      reason=reason.strip())
    await verification_store.return_with_record(  # issue 14: before the event (no mark left)
        conn, record_id, principal.publisher_id,
        f"Nilai ini ditarik sebelum diverifikasi: {reason.strip()}")
    await publish_records(conn, dataset["slug"], [changed])
    await audit.record(conn, principal, "record.retract", str(record_id), {"reason": reason})
    return await get_record(conn, record_id, reader=principal)


async def changes(conn: asyncpg.Connection, since: int, limit: int,
                  reader: Principal | None = None) -> dict:
    """Record versions and verification entries in change order. The feed answers ``next`` (a
    sequence number, not a cursor): clients store it to resume from where they stopped, across
    restarts."""
    rows = await store.records_after_seq(conn, since, limit)
    items = [{"change": "version", **record_event(r, r["dataset"]).model_dump(mode="json")}
             if r["change"] == "version" else _verification_entry(r) for r in rows]
    return {"items": await privacy.mask_changes(conn, items, reader),  # issue 19
            "next": rows[-1]["seq"] if rows else since}


def _verification_entry(r: dict) -> dict:
    """A held value's change on the feed: its key and what happened, never its value (a held
    value is not public); ``verification_status`` 'sedang_diverifikasi' when it was held."""
    return {"change": r["change"], "held_id": str(r["held_id"]),
            "record_id": str(r["id"]) if r["id"] else None, "dataset": r["dataset"],
            "region_code": r["region_code"], "period": r["period"], "dimensions": r["dims"],
            "values": {}, "publisher_id": r["publisher_id"],
            "changed_at": r["updated_at"].isoformat(), "seq": r["seq"],
            "verification_status": "sedang_diverifikasi" if r["change"] == "held" else None}


async def record_snapshot(conn: asyncpg.Connection, cursor: str | None, limit: int
                          ) -> tuple[list[dict], str | None]:
    """Every current record, a keyset page at a time: what search rebuilds from."""
    after = decode_cursor(cursor, 1, [uuid.UUID])[0] if cursor else None
    rows = await store.current_records_after(conn, after, limit + 1)
    rows, next_cursor = page(rows, limit, lambda r: (r["id"],))
    items = [record_event(r, r["dataset"]).model_dump(mode="json") for r in rows]
    return await privacy.mask_snapshot(conn, items), next_cursor  # search indexes this
