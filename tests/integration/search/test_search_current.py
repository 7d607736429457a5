"""?current=true keeps the datasets whose newest period is not past due, and their records."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.helpers import eventually
from tests.integration.search.conftest import dataset, kutim_regions, query, record


async def test_current_filter_keeps_datasets_not_past_due(search_app, registry_bus):
    desa = [r for r in kutim_regions() if r.level == "desa"][:3]
    this_month = datetime.now(timezone.utc).strftime("%Y-%m")  # due 15 days after it ends
    await registry_bus.regions(kutim_regions())
    await registry_bus.datasets(
        dataset("jumlah-penduduk", "Jumlah Penduduk").model_copy(
            update={"frequency": "monthly"}),
        dataset("jumlah-sekolah", "Jumlah Sekolah", topic="pendidikan"))  # annual
    await registry_bus.records(
        [record("jumlah-penduduk", d.code, this_month, 1) for d in desa]
        + [record("jumlah-penduduk", d.code, "2019-01", 1) for d in desa]
        + [record("jumlah-sekolah", d.code, "2019", 1) for d in desa])  # long past due
    c = search_app["client"]

    async def indexed():
        return (await query(c, q="jumlah "))["total"] == 2 + 3 * len(desa)
    await eventually(indexed, timeout=20)
    r = await query(c, q="jumlah ", current="true")
    assert {v["value"]: v["count"] for v in r["facets"]["dataset"]} == {
        "jumlah-penduduk": 1 + 2 * len(desa)}  # its old periods too: the dataset is current
    assert (await query(c, q="jumlah ", current="false"))["total"] == 2 + 3 * len(desa)
