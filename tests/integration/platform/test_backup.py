"""satudata backup/restore on real PostgreSQL: what JetStream held is recovered from the
outboxes. An event published but applied by no consumer when the backup was taken goes back
to unsent after the restore; one some consumer applied stays sent (its inbox would skip it)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from satudata.backup import backup_to, restore_from
from tests.conftest import _with_db, migrate


async def test_restore_republishes_only_events_no_consumer_applied(database_url,
                                                                  pg_server_url, tmp_path):
    for service in ("registry", "ingest", "search"):
        await migrate(service, database_url)
    applied, in_flight, waiting = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(database_url)
    try:
        for event_id, sent in ((applied, True), (in_flight, True), (waiting, False)):
            await conn.execute(
                "INSERT INTO registry.outbox (event_id, subject, payload, sent_at) "
                "VALUES ($1, 'registry.records.changed.v1', '{}', "
                "CASE WHEN $2 THEN now() END)", event_id, sent)
        await conn.execute("INSERT INTO search.inbox (consumer, event_id) "
                           "VALUES ('search-indexer', $1)", applied)
    finally:
        await conn.close()

    manifest = await asyncio.to_thread(backup_to, database_url, tmp_path / "b")
    assert set(manifest["schemas"]) == {"registry", "ingest", "search"}

    fresh = f"r_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_with_db(pg_server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        summary = await asyncio.to_thread(restore_from, _with_db(pg_server_url, fresh),
                                          tmp_path / "b")
        assert summary["requeued"] == {"registry": 1, "ingest": 0, "search": 0}
        conn = await asyncpg.connect(_with_db(pg_server_url, fresh))
        try:
            unsent = {r["event_id"] for r in await conn.fetch(
                "SELECT event_id FROM registry.outbox WHERE sent_at IS NULL")}
            versions = await conn.fetchval("SELECT count(*) FROM registry.alembic_version")
        finally:
            await conn.close()
        assert unsent == {in_flight, waiting}
        assert versions == 1  # the restored schema knows its migration: `migrate` continues
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
        await admin.close()
