"""Master records: reading them (a page, one record with its history, the change feed, the
snapshot search rebuilds from), and the record operations the other topics use (new versions,
the staged apply path), so none reaches into this topic's store."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.registry.datasets import service as datasets
from services.registry.datasets.service import get_dataset, retracted_error
from services.registry.privacy import service as privacy
from services.registry.records import store
from services.registry.records.events import (  # noqa: F401 - the events other topics send
    publish_records, record_event, send_record_events)
from services.registry.records.staging_store import (  # noqa: F401 - the apply path, set-based
    apply_staged, chunk_summary, claim_chunk, classify_staged, save_chunk_summary, stage_rows)
from services.registry.records.store import (  # noqa: F401 - one record's reads and writes
    RECORD_SELECT, get_record as get_record_row, lock_record, new_version)
from services.registry.records.classify import Meeting, Plan, plan  # noqa: F401 - the rules
from services.registry.records.validation import ValidRow, dims_key, validate_row  # noqa: F401
from services.registry.regions import service as regions
from shared.auth import Principal
from shared.errors import NotFound, unknown_parameter
from shared.pagination import decode_cursor, page, text

__all__ = [  # what the other topics may use: nothing else of this topic
    "Meeting", "Plan", "RECORD_SELECT", "ValidRow", "apply_staged", "changes",
    "chunk_summary", "claim_chunk", "classify_staged", "current_of",
    "dims_key", "get_record", "get_record_row", "list_records", "lock_record", "new_version",
    "plan", "publish_records", "record_event", "record_public", "record_snapshot",
    "save_chunk_summary", "send_record_events", "stage_rows", "validate_row"]


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
    """A page of records as ``reader`` may see them (a sensitive dataset's small
    counts hidden from the public)."""
    dataset = await get_dataset(conn, slug)
    schema = dataset["schema"]
    unknown = set(dims) - set(schema.dimension_names)
    if unknown:
        raise unknown_parameter(sorted(unknown), [], dimensions=schema.dimension_names)
    after = decode_cursor(cursor, 3, [text, text, text]) if cursor else None
    rows = await store.list_records(conn, dataset_id=dataset["id"], region=region,
                                    period_from=period_from, period_to=period_to, dims=dims,
                                    after=after, limit=limit + 1)
    rows, next_cursor = page(rows, limit,
                             lambda r: (r["period"], r["region_code"], r["dims_key"]))
    return await privacy.mask_records(conn, slug, [record_public(r) for r in rows],
                                      reader), next_cursor


async def page_of_records(pool: asyncpg.Pool, slug: str, **query) -> tuple[list[dict], str | None]:
    """``list_records`` on a connection of the pool, held only for the page."""
    async with pool.acquire() as conn:
        return await list_records(conn, slug, **query)


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
    out["verification"] = await store.record_decisions(conn, record_id)
    return await privacy.mask_record_detail(conn, out, reader)


async def changes(conn: asyncpg.Connection, since: int, limit: int,
                  reader: Principal | None = None) -> dict:
    """Record versions and verification entries in change order. The feed answers ``next`` (a
    sequence number, not a cursor): clients store it to resume from where they stopped, across
    restarts."""
    rows = await store.records_after_seq(conn, since, limit)
    items = [{"change": "version", **record_event(r, r["dataset"]).model_dump(mode="json")}
             if r["change"] == "version" else _verification_entry(r) for r in rows]
    return {"items": await privacy.mask_changes(conn, items, reader),
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


async def snapshot(conn: asyncpg.Connection, kind: str, cursor: str | None, limit: int
                   ) -> tuple[list[dict], str | None]:
    """What search rebuilds from: regions and datasets whole, records a keyset page at a
    time."""
    if kind == "regions":
        return [r.model_dump(mode="json") for r in await regions.region_events(conn)], None
    if kind == "datasets":
        return await datasets.dataset_events(conn), None
    return await record_snapshot(conn, cursor, limit)


async def record_snapshot(conn: asyncpg.Connection, cursor: str | None, limit: int
                          ) -> tuple[list[dict], str | None]:
    """Every current record, a keyset page at a time: what search rebuilds from."""
    after = decode_cursor(cursor, 1, [uuid.UUID])[0] if cursor else None
    rows = await store.current_records_after(conn, after, limit + 1)
    rows, next_cursor = page(rows, limit, lambda r: (r["id"],))
    items = [record_event(r, r["dataset"]).model_dump(mode="json") for r in rows]
    return await privacy.mask_snapshot(conn, items), next_cursor  # search indexes this


async def current_of(conn: asyncpg.Connection, dataset_id: int, keys: list[dict]) -> list[dict]:
    """The current records of ``keys`` (region_code, period, dims_key) of one dataset, with
    their verification mark as it is now inside the caller's transaction."""
    return await store.current_of(conn, dataset_id, keys)


async def before_their_code(conn: asyncpg.Connection, *, dataset: str | None = None,
                            record_ids: list | None = None, limit: int = 1000) -> list[dict]:
    """Current records under a code not yet in force in their period, with the codes in force
    then that they can move to (records/store.py)."""
    return await store.before_their_code(conn, dataset=dataset, record_ids=record_ids,
                                         limit=limit)
