"""The indexer applies the events of one fetch together (one transaction, one inbox row each):
every event once, a redelivered one not again, and a bad event in a fetch never holds back the
good ones (that fetch falls back to one by one; the bad event is dead-lettered)."""

from __future__ import annotations

import uuid

from shared.contracts import Envelope, RecordsChangedV1
from shared import bus
from services.search.consumers import DURABLE
from tests.helpers import drained, eventually
from tests.integration.search.conftest import dataset, kutim_regions, query, record


async def test_a_burst_of_events_indexes_each_once_and_a_bad_one_is_set_aside(search_app,
                                                                             registry_bus):
    c = search_app["client"]
    await registry_bus.regions(kutim_regions())
    await registry_bus.datasets(dataset("jumlah-penduduk", "Jumlah Penduduk"))
    codes = [r.code for r in kutim_regions() if r.level == "desa"][:40]
    sent = []
    twice = uuid.uuid4()
    for i, code in enumerate(codes):
        envelope = await registry_bus.records([record("jumlah-penduduk", code, "2024", i)],
                                              ) if i != 5 else await registry_bus.send(
            RecordsChangedV1(records=[record("jumlah-penduduk", code, "2024", i)]),
            event_id=twice)
        sent.append(envelope)
        if i == 20:  # not a records event at all, on the records subject
            bad = Envelope(event_id=uuid.uuid4(), type=RecordsChangedV1.subject,
                           occurred_at=envelope.occurred_at, data={"records": "no"})
            await bus.publish(registry_bus.js, registry_bus.ns, bad)
    # the same event again, after it was indexed: the inbox leaves it out (a new record id
    # would otherwise show up as a 41st record)
    indexer = (registry_bus.js, registry_bus.ns.stream("REGISTRY"), DURABLE)
    await eventually(lambda: drained(*indexer), timeout=30)
    await registry_bus.send(RecordsChangedV1(records=[record("jumlah-penduduk", codes[0],
                                                             "2025", 1)]), event_id=twice)

    async def all_in():
        r = await query(c, kind="record", limit=1)
        return r["total"] == len(codes)
    await eventually(all_in, timeout=30)
    await eventually(lambda: drained(*indexer), timeout=30)  # the repeat was handled too
    assert (await query(c, kind="record", limit=1))["total"] == len(codes)
    async with search_app["pool"].acquire() as conn:
        inbox = await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = $1",
                                    "search-indexer")
    assert inbox >= len(codes) + 2  # regions, datasets, the 40 record events
