"""The publisher facet is one vocabulary: the publisher's id as value, its name as label,
for records (publisher_id) and datasets (their producer's publisher_id) alike."""

from __future__ import annotations

from tests.helpers import eventually
from tests.integration.search.conftest import dataset, kutim_regions, query, record

NAME = "Dinas Kependudukan dan Pencatatan Sipil"


async def test_publisher_facet_values_are_ids_labelled_with_names(search_app, registry_bus):
    desa = [r for r in kutim_regions() if r.level == "desa"][:5]
    await registry_bus.regions(kutim_regions())
    await registry_bus.datasets(dataset("jumlah-penduduk", "Jumlah Penduduk").model_copy(
        update={"publisher": NAME, "publisher_id": "disdukcapil"}))
    records = [record("jumlah-penduduk", d.code, "2024", i).model_copy(
        update={"publisher_name": NAME}) for i, d in enumerate(desa)]
    records.append(record("jumlah-penduduk", desa[0].code, "2023", 1, publisher="desa-x"))
    await registry_bus.records(records)
    c = search_app["client"]

    async def facet():
        r = await query(c, q="penduduk ")
        assert r["total"] == len(records) + 1, r["total"]  # and the dataset
        return r["facets"]["publisher"]
    got = await eventually(facet, timeout=20)
    assert got == [{"value": "disdukcapil", "count": len(records), "label": NAME},
                   {"value": "desa-x", "count": 1, "label": None}]  # name not sent: no label
    # a filter by the facet's value finds the dataset and its publisher's records
    r = await query(c, q="penduduk ", publisher="disdukcapil")
    assert r["total"] == len(records) and r["facets"]["publisher"][0]["label"] == NAME
