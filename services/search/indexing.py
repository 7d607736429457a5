"""Search use cases: index registry events, rebuild from the registry (queries: queries.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

import asyncpg
import httpx

from services.search import publishers, store
from shared.contracts import (DatasetsChangedV1, DatasetV1, Envelope, RecordsChangedV1,
                              RecordV1, RegionsChangedV1, RegionV1)

# --- indexing ------------------------------------------------------------------------------

async def apply_regions(conn: asyncpg.Connection, regions: Sequence[RegionV1]) -> None:
    await store.lock_exclusive(conn)
    changed = await store.upsert_regions(conn, regions)
    if not changed:
        return
    await store.refresh_region_ancestry(conn)
    await store.refresh_vocabulary(conn)
    # a renamed kecamatan changes the ancestry of every desa below it
    await store.build_region_docs(conn, None)
    await store.build_record_docs(conn, region_codes=changed)
    await store.bump_index_version(conn)


async def apply_datasets(conn: asyncpg.Connection, datasets: Sequence[DatasetV1]) -> None:
    await store.lock_exclusive(conn)
    await store.remember_publishers(conn, publishers.named(datasets))
    changed = await store.upsert_datasets(conn, datasets)
    if not changed:
        return
    await store.refresh_vocabulary(conn)
    await store.build_dataset_docs(conn, changed)
    await store.build_record_docs(conn, datasets=changed)
    await store.bump_index_version(conn)


async def apply_records(conn: asyncpg.Connection, records: Sequence[RecordV1 | tuple]) -> None:
    """One set-based pass: COPY the batch, keep the newest version, (re)build its documents."""
    await store.lock_shared(conn)
    await store.remember_publishers(conn, publishers.named(records))
    await store.stage_records(conn, records)
    await store.upsert_staged_records(conn)
    await store.build_record_docs(
        conn, record_ids=[r.record_id if isinstance(r, RecordV1) else r[0] for r in records])
    await store.bump_index_version(conn)


async def apply_envelope(conn: asyncpg.Connection, envelope: Envelope) -> str:
    """Index one registry event; returns the kind of event it was."""
    if envelope.type == RecordsChangedV1.subject:
        event = envelope.open(RecordsChangedV1)
        if event.records:
            await apply_records(conn, event.records)
        return "records"
    if envelope.type == RegionsChangedV1.subject:
        event = envelope.open(RegionsChangedV1)
        if event.regions:
            await apply_regions(conn, event.regions)
        return "regions"
    if envelope.type == DatasetsChangedV1.subject:
        event = envelope.open(DatasetsChangedV1)
        if event.datasets:
            await apply_datasets(conn, event.datasets)
        return "datasets"
    raise ValueError(f"search does not index {envelope.type!r}")


async def apply_envelopes(conn: asyncpg.Connection, envelopes: Sequence[Envelope]
                          ) -> list[str]:
    """Index the events of one fetch in one transaction: their records as one set-based batch
    (the newest version of each record wins, whatever the order), regions and datasets first.
    Returns the kind of each event, in order."""
    kinds: list[str] = []
    records: list[RecordV1] = []
    for envelope in envelopes:
        if envelope.type == RecordsChangedV1.subject:
            records += envelope.open(RecordsChangedV1).records
            kinds.append("records")
        else:
            kinds.append(await apply_envelope(conn, envelope))
    if records:
        await apply_records(conn, records)
    return kinds


def event_lag_seconds(envelope: Envelope, now: datetime | None = None) -> float:
    """From the registry event (occurred_at) to now: what the freshness histogram observes."""
    now = now or datetime.now(timezone.utc)
    return max(0.0, (now - envelope.occurred_at).total_seconds())


# --- rebuild -------------------------------------------------------------------------------

async def _snapshot(client: httpx.AsyncClient, registry_url: str, kind: str, page: int):
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": page}
        if cursor:
            params["cursor"] = cursor
        resp = await client.get(f"{registry_url.rstrip('/')}/internal/v1/snapshot/{kind}",
                                params=params)
        resp.raise_for_status()
        body = resp.json()
        yield body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return


async def reindex(client: httpx.AsyncClient, pool: asyncpg.Pool, registry_url: str, *,
                  page: int = 5000, progress=None) -> dict[str, int]:
    """Rebuild every document from the registry's snapshot, in one transaction.

    Same store functions as the live index, so both produce the same documents. Live events
    arriving meanwhile wait on the index lock and apply afterwards (never to an older version).
    """
    counts = {"regions": 0, "datasets": 0, "records": 0}
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_exclusive(conn)
        await store.truncate_all(conn)
        await store.remember_publishers(conn, await publishers.from_registry(client, registry_url))
        regions = [RegionV1.model_validate(x)
                   async for items in _snapshot(client, registry_url, "regions", page)
                   for x in items]
        datasets = [DatasetV1.model_validate(x)
                    async for items in _snapshot(client, registry_url, "datasets", page)
                    for x in items]
        if regions:
            await apply_regions(conn, regions)
        if datasets:
            await apply_datasets(conn, datasets)
        counts["regions"], counts["datasets"] = len(regions), len(datasets)
        async for items in _snapshot(client, registry_url, "records", page):
            if items:
                await apply_records(conn, [RecordV1.model_validate(x) for x in items])
            counts["records"] += len(items)
            if progress:
                progress(counts["records"])
    return counts
