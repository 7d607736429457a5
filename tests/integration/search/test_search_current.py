"""?current=true keeps the datasets current for their frequency, and their records: every
village valid in the period already due sent it (the registry's rule)."""

from __future__ import annotations

from datetime import datetime, timezone

from shared import reporting_calendar as calendar
from tests.helpers import eventually
from tests.integration.search.conftest import dataset, kutim_regions, query, record


async def test_current_filter_keeps_datasets_every_village_sent_the_period_due_for(
        search_app, registry_bus):
    villages = [r for r in kutim_regions() if r.level in ("desa", "kelurahan")]
    desa = villages[:3]
    due = calendar.latest_due("monthly", 15, datetime.now(timezone.utc))
    await registry_bus.regions(kutim_regions())
    await registry_bus.datasets(
        dataset("jumlah-penduduk", "Jumlah Penduduk").model_copy(
            update={"frequency": "monthly"}),
        dataset("jumlah-kunjungan", "Jumlah Kunjungan").model_copy(
            update={"frequency": "monthly"}),
        dataset("jumlah-sekolah", "Jumlah Sekolah", topic="pendidikan"))  # annual
    await registry_bus.records(
        [record("jumlah-penduduk", v.code, due, 1) for v in villages]  # every village: current
        + [record("jumlah-penduduk", d.code, "2019-01", 1) for d in desa]
        + [record("jumlah-kunjungan", d.code, due, 1) for d in desa]  # 3 of 141: late
        + [record("jumlah-sekolah", d.code, "2019", 1) for d in desa])  # long past due
    c = search_app["client"]
    total = 3 + len(villages) + 3 * len(desa)

    async def indexed():  # (regions too: a fetch of records may commit before theirs)
        return ((await query(c, q="jumlah "))["total"] == total
                and (await query(c, kind="region"))["total"] == len(kutim_regions()))
    await eventually(indexed, timeout=20)
    r = await query(c, q="jumlah ", current="true")
    assert {v["value"]: v["count"] for v in r["facets"]["dataset"]} == {
        "jumlah-penduduk": 1 + len(villages) + len(desa)}  # its old periods too
    assert (await query(c, q="jumlah ", current="false"))["total"] == total
