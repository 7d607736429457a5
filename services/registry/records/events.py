"""The record events the registry publishes (through the outbox): one batch per applied chunk,
each record in its public form (privacy), with its publisher's name and its verification mark."""

from __future__ import annotations

import asyncpg

from services.registry.privacy.service import public_events
from services.registry.records import store
from services.registry.settings import SCHEMA
from shared import outbox
from shared.contracts import RecordsChangedV1, RecordV1

EVENT_RECORDS_MAX = 500  # records per RecordsChangedV1, keeps messages far below 1 MB


def record_event(row: dict, dataset: str) -> RecordV1:
    """Built from a row the registry just wrote (typed by PostgreSQL): not validated again,
    which is a good part of the hot path's time per changed record."""
    return RecordV1.model_construct(
        record_id=row["id"], dataset=dataset, region_code=row["region_code"],
        period=row["period"], dimensions=row["dims"], values=row["vals"], version=row["version"],
        status=row["status"], publisher_id=row["publisher_id"],
        submission_id=row["submission_id"], changed_at=row["updated_at"], seq=row.get("seq"),
        verification_status=mark(row.get("under_verification")),
    )


def mark(under_verification: bool | None) -> str | None:
    """The public mark of a record whose newer value is held (None: not known)."""
    if under_verification is None:
        return None
    return "sedang_diverifikasi" if under_verification else "terverifikasi"


async def publish_records(conn: asyncpg.Connection, dataset_slug: str, changed: list[dict]
                          ) -> None:
    """The changed records in their public form (a sensitive dataset's small
    counts hidden), with every other record whose public form changed with them."""
    events = [record_event(r, dataset_slug) for r in changed]
    await send_record_events(conn, await public_events(conn, dataset_slug, events))


async def send_record_events(conn: asyncpg.Connection, events: list[RecordV1]) -> None:
    """Each event names its publisher (search labels its facet without asking), carries its
    verification mark, and says when it was sent: of two events of one version (a re-send
    after the public form or the mark changed), readers keep the later."""
    if not events:
        return
    names, held, sent_at = await store.event_labels(
        conn, list({e.publisher_id for e in events if e.publisher_id}),
        [e.record_id for e in events])
    events = [e.model_copy(update={"publisher_name": names.get(e.publisher_id),
                                   "verification_status": mark(e.record_id in held),
                                   "sent_at": sent_at})
              for e in events]
    for start in range(0, len(events), EVENT_RECORDS_MAX):
        await outbox.add(conn, SCHEMA, RecordsChangedV1(
            records=events[start:start + EVENT_RECORDS_MAX]))
