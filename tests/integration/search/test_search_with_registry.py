"""Search fed by the real registry: its outbox events index live, and `satudata reindex` from
its real snapshot endpoint gives the same documents."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import eventually, signed
from tests.integration.search.conftest import query


@pytest.fixture
def stack_options() -> dict:
    return {"sample_values": True, "search": True}


async def test_reindex_from_the_real_registry_equals_the_live_index(stack, index_rebuild):
    async with httpx.AsyncClient(base_url=stack["search_url"], auth=signed()) as c:
        async def indexed():
            r = await query(c, kind="record", limit=1)
            assert r["total"] == stack["summary"]["sample_records"], r["total"]
            return (await query(c, q="kongbeng", limit=1))["items"]
        await eventually(indexed, timeout=30)
    rebuilt = await index_rebuild.documents(stack["registry_url"])
    # the seed's last region/dataset events may still be on their way to the live index when
    # the records are all in: it must reach the rebuilt state
    await eventually(lambda: index_rebuild.live_equals(rebuilt), timeout=15)
