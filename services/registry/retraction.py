"""Withdrawal with a reason: a dataset (walidata), or one published value (walidata or the
dataset's authoritative publisher). Nothing is deleted: a retracted dataset is hidden and
answers 410 with the reason until restored; a retracted value is a new version with status
``retracted``, left out of aggregates and exports, kept in history and on the change feed.
"""

from __future__ import annotations

import uuid

import asyncpg

from services.registry import service, store
from shared import outbox
from shared.auth import Principal
from shared.contracts import DatasetsChangedV1
from shared.errors import Conflict, Forbidden, NotFound


async def _announce(conn: asyncpg.Connection, dataset: dict) -> dict:
    await outbox.add(conn, service.SCHEMA,
                     DatasetsChangedV1(datasets=[service.dataset_event(dataset)]))
    return dataset


async def retract_dataset(conn: asyncpg.Connection, principal: Principal, slug: str,
                          reason: str) -> dict:
    dataset = await service.get_dataset(conn, slug, allow_retracted=True)
    if dataset["retracted_at"] is not None:
        raise Conflict(f"Dataset '{slug}' sudah ditarik.", code="dataset_already_retracted")
    return await _announce(conn, await store.set_dataset_retraction(
        conn, slug, by=principal.publisher_id, reason=reason.strip()))


async def restore_dataset(conn: asyncpg.Connection, principal: Principal, slug: str) -> dict:
    dataset = await service.get_dataset(conn, slug, allow_retracted=True)
    if dataset["retracted_at"] is None:
        raise Conflict(f"Dataset '{slug}' tidak sedang ditarik.", code="dataset_not_retracted")
    return await _announce(conn, await store.set_dataset_retraction(
        conn, slug, by=principal.publisher_id, reason=None))


async def retract_record(conn: asyncpg.Connection, principal: Principal, record_id: uuid.UUID,
                         reason: str) -> dict:
    """The walidata, or a publisher authoritative for the dataset whose scope holds the
    region, withdraws one value; the record row stays locked until the caller commits."""
    row = await store.lock_record(conn, record_id)
    if row is None:
        raise NotFound("Rekaman tidak ditemukan.", code="record_not_found")
    dataset = await service.get_dataset(conn, row["dataset"])  # 410 when withdrawn whole
    if not principal.is_steward:
        region = await store.get_region(conn, row["region_code"])
        allowed = (principal.publisher_id in dataset["authoritative"]
                   and region is not None and principal.region_scope in region["path"])
        if not allowed:
            raise Forbidden("Hanya walidata atau produsen data yang berwenang atas dataset "
                            f"{dataset['slug']} yang boleh menarik nilai ini.",
                            code="retract_not_allowed")
    if row["status"] == "retracted":
        raise Conflict("Nilai ini sudah ditarik.", code="record_already_retracted")
    changed = await store.retract_record(conn, record_id, principal.publisher_id, reason.strip())
    await service.publish_records(conn, dataset["slug"], [changed])
    return await service.get_record(conn, record_id)
