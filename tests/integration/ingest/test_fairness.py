"""Fair under load (issue 17): a publisher's own backlog is bounded (429 backlog_full with
Retry-After, others unaffected), and a village's row is not queued behind another publisher's
backlog (the relay sends publishers in turn, a few chunks each in flight). Real PostgreSQL,
NATS, registry and ingest servers."""

from __future__ import annotations

import uuid

import pytest

from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.helpers import eventually, served
from tests.integration.ingest.conftest import (DESA, final_status, post_rows, principal,
                                               rows)

DINAS = principal("dinas-kependudukan", scope="64.08")  # a regency office with a big backlog


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the registry consumes this module's chunks


async def test_a_village_row_is_applied_before_most_of_another_publishers_backlog(
        ingest_settings, start_ingest, ingest_db):
    # 200 chunks of 2 rows from the regency office are being applied when one row comes from
    # a village: at most a window's worth of the backlog (4 chunks here) is ahead of it.
    settings = ingest_settings.model_copy(update={"max_inflight_chunks": 4})
    applied_sql = ("SELECT submission_id FROM registry.applied_chunks "
                   "WHERE submission_id = ANY($1::uuid[]) ORDER BY applied_at, chunk")
    async with start_ingest(settings) as client:
        backlog = await post_rows(client, rows(400), DINAS)
        assert backlog.status_code == 202, backlog.text
        assert backlog.json()["chunks"] == 200
        backlog_id = uuid.UUID(backlog.json()["id"])

        async def draining():
            return len(await ingest_db.fetch(applied_sql, [backlog_id])) >= 3
        await eventually(draining, timeout=60)

        village = await post_rows(client, [{"region": DESA, "period": "2030",
                                        "jenis_kelamin": "L", "jumlah": 7}], principal())
        assert village.status_code == 202, village.text
        village_id = uuid.UUID(village.json()["id"])
        # Counted after the village's row was accepted: an upper bound of what went first.
        already = len(await ingest_db.fetch(applied_sql, [backlog_id]))
        done = await final_status(client, village.json()["status_url"], principal())
        assert done["status"] == "completed" and done["counts"]["created"] == 1
        await final_status(client, backlog.json()["status_url"], DINAS)

    # Order of application in the registry, never time.
    order = [r["submission_id"] for r in await ingest_db.fetch(applied_sql,
                                                               [village_id, backlog_id])]
    assert len(order) == 201  # every chunk applied, once
    assert already < 150, "the backlog drained before the village row came: nothing to prove"
    ahead = order.index(village_id) - already
    assert ahead <= 12, f"the village row waited behind {ahead} more chunks of the backlog"
