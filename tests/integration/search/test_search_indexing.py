"""Indexing from registry events: order, late and duplicate events, retractions, freshness."""

from __future__ import annotations

import uuid

from tests.helpers import eventually
from tests.integration.search.conftest import dataset, kutim_regions, query, record


async def _doc(pool, doc_id: str):
    return await pool.fetchrow("SELECT * FROM documents WHERE doc_id = $1", doc_id)


async def test_late_and_duplicate_events_never_regress_a_version(search_app, registry_bus):
    pool, rid = search_app["pool"], uuid.uuid4()
    await registry_bus.datasets(dataset("jumlah-penduduk", "Jumlah Penduduk"))
    v3 = await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2024", 300,
                                            record_id=rid, version=3)])

    async def at_version(v):
        row = await _doc(pool, f"record:{rid}")
        return row is not None and row["version"] == v and row
    await eventually(lambda: at_version(3))
    # a late version 2, and version 3 delivered again under a new event id, then a marker
    await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2024", 200,
                                       record_id=rid, version=2)])
    await registry_bus.send(RecordsChanged(v3))
    marker = uuid.uuid4()
    await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2025", 1,
                                       record_id=marker)])
    await eventually(lambda: _doc(pool, f"record:{marker}"))
    row = await _doc(pool, f"record:{rid}")
    assert row["version"] == 3 and row["values"] == {"jumlah": 300}
    r = await query(search_app["client"], q="penduduk", period_from="2024", period_to="2024")
    assert [i["values"] for i in r["items"]] == [{"jumlah": 300}]


def RecordsChanged(envelope):
    from shared.contracts import RecordsChangedV1
    return RecordsChangedV1.model_validate(envelope.data)


async def test_retracted_record_disappears(search_app, registry_bus):
    rid = uuid.uuid4()
    await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2024", 5,
                                       record_id=rid)])

    async def total():
        return (await query(search_app["client"], kind="record"))["total"]
    await eventually(lambda: _eq(total, 1))
    await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2024", 5,
                                       record_id=rid, version=2, status="retracted")])
    await eventually(lambda: _eq(total, 0))
    # a late current version 1 does not bring it back
    await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2024", 5,
                                       record_id=rid, version=1)])
    marker = uuid.uuid4()
    await registry_bus.records([record("x", "64.08.01", "2020", 1, record_id=marker)])
    await eventually(lambda: _doc(search_app["pool"], f"record:{marker}"))
    assert await _doc(search_app["pool"], f"record:{rid}") is None


async def _eq(fn, expected):
    value = await fn()
    assert value == expected, value
    return True


async def test_record_before_its_region_and_dataset_is_completed_when_they_arrive(
        search_app, registry_bus):
    c = search_app["client"]
    await registry_bus.records([record("jumlah-sekolah", "64.08.08.2006", "2024", 2)])

    async def record_title():
        r = await query(c, kind="record")
        return r["items"] and r["items"][0]
    item = await eventually(record_title)
    assert item["region_name"] is None
    await registry_bus.datasets(dataset("jumlah-sekolah", "Jumlah Sekolah Dasar",
                                        topic="pendidikan"))
    await registry_bus.regions(kutim_regions())

    async def completed():
        r = await query(c, q="sekolah kongbeng", kind="record")
        # both words (not a partial answer), and the dataset's event indexed too (the two
        # events may be indexed in either order, by different loops)
        done = r["items"] and not r["partial"] and r["items"][0]
        return done if done and done["title"].startswith("Jumlah Sekolah Dasar") else None
    item = await eventually(completed)
    assert item["region_name"] == "Kombeng Indah"
    assert item["title"] == "Jumlah Sekolah Dasar — Kombeng Indah 2024 (Laki-laki)"
    r = await query(c, kind="record", topic="pendidikan")
    assert r["facets"]["kecamatan"] == [{"value": "64.08.08", "count": 1, "label": "Kombeng"}]


async def test_renamed_region_renames_its_records_and_late_rename_is_ignored(
        search_app, registry_bus):
    c = search_app["client"]
    regions = kutim_regions()
    await registry_bus.regions(regions)
    await registry_bus.records([record("jumlah-penduduk", "64.08.05.2006", "2024", 7)])
    await eventually(lambda: _found(c, "benua baru ilir", 1))
    old = next(r for r in regions if r.code == "64.08.05.2006")
    await registry_bus.regions([old.model_copy(update={"name": "Benua Baru Hilir",
                                                        "version": 3})])
    await eventually(lambda: _found(c, "hilir", 1))
    await registry_bus.regions([old.model_copy(update={"name": "Benua Lama", "version": 2})])
    marker = uuid.uuid4()
    await registry_bus.records([record("x", "64.08.01", "2020", 1, record_id=marker)])
    await eventually(lambda: _doc(search_app["pool"], f"record:{marker}"))
    assert (await _doc(search_app["pool"], "region:64.08.05.2006"))["name"] == "Benua Baru Hilir"


async def _found(c, q, n):
    r = await query(c, q=q, kind="record")
    assert r["total"] == n, r
    return True


async def test_freshness_is_measured_and_exposed_as_a_histogram(search_app, registry_bus):
    await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2024", 5)])

    async def observed():
        text = (await search_app["client"].get("/metrics")).text
        line = [x for x in text.splitlines()
                if x.startswith('search_freshness_seconds_count{kind="records"}')]
        return line and float(line[0].split()[-1]) >= 1 and text
    text = await eventually(observed)
    assert 'search_freshness_seconds_bucket{kind="records",le="1.0"} 1.0' in text


async def test_retracted_dataset_and_its_records_leave_search_until_restored(
        search_app, registry_bus):
    c = search_app["client"]
    await registry_bus.datasets(dataset("jumlah-penduduk", "Jumlah Penduduk"))
    await registry_bus.records([record("jumlah-penduduk", "64.08.04.2001", "2024", 5)])

    async def kinds():
        return sorted(i["kind"] for i in (await query(c, q="penduduk"))["items"])
    await eventually(lambda: _eq(kinds, ["dataset", "record"]))
    withdrawn = dataset("jumlah-penduduk", "Jumlah Penduduk", version=2)
    await registry_bus.datasets(withdrawn.model_copy(update={"retracted": True}))
    await eventually(lambda: _eq(kinds, []))
    await registry_bus.datasets(dataset("jumlah-penduduk", "Jumlah Penduduk", version=3))
    await eventually(lambda: _eq(kinds, ["dataset", "record"]))
