"""Fair under load: a publisher's own backlog is bounded (429 backlog_full with
Retry-After, others unaffected), and a village's row is not queued behind another publisher's
backlog (the relay sends publishers in turn, a few chunks each in flight). Real PostgreSQL,
NATS, registry and ingest servers."""

from __future__ import annotations

import pytest

from tests.integration.ingest.conftest import DESA, final_status, post_rows, principal, rows

DINAS = principal("dinas-kependudukan", scope="64.08")  # a regency office with a big backlog


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the registry consumes this module's chunks


async def test_a_publishers_backlog_is_bounded_and_others_still_submit(
        ingest_settings, start_ingest):
    # max_inflight_chunks=0: the relay holds every chunk, so the backlog stays for as long as
    # the test needs it; a second ingest on the same database then lets it drain.
    held = ingest_settings.model_copy(update={"max_pending_rows": 10, "backlog_retry_after": 7,
                                              "max_inflight_chunks": 0})
    async with start_ingest(held) as client:
        first = await post_rows(client, rows(20), DINAS)
        assert first.status_code == 202, first.text

        refused = await post_rows(client, rows(2, start=100), DINAS)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "7"
        error = refused.json()["error"]
        assert error["code"] == "backlog_full"
        assert "belum diproses" in error["message"]
        assert error["details"][0]["pending_rows"] == 20

        other = await post_rows(client, [{"region": DESA, "period": "2030", "jenis_kelamin": "L",
                                      "jumlah": 7}], principal())
        assert other.status_code == 202, other.text

    draining = held.model_copy(update={"max_inflight_chunks": 16})
    async with start_ingest(draining) as client:
        await final_status(client, first.json()["status_url"], DINAS)
        again = await post_rows(client, rows(2, start=100), DINAS)
        assert again.status_code == 202, again.text
