"""Fixtures for the search service: a running app, and the real region tree of Kutai Timur
(with the statistics agency's spellings as aliases) as registry events. Its migrated database
and settings (``search_db``, ``search_settings``) are in ``tests/integration/conftest.py``."""

from __future__ import annotations

import csv
import uuid
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from services.search.app import create_app
from shared import bus
from shared.contracts import (DatasetsChangedV1, DatasetV1, Envelope, Event, RecordsChangedV1,
                              RecordV1, RegionsChangedV1, RegionV1)
from tests.helpers import served, signed

DATA = Path(__file__).resolve().parents[3] / "data"


def kutim_regions() -> list[RegionV1]:
    rows = list(csv.DictReader(open(DATA / "wilayah_6408_kutai_timur.csv", encoding="utf-8")))
    by_code = {r["code"]: r for r in rows}
    aliases: dict[str, list[str]] = {}
    for b in csv.DictReader(open(DATA / "bps_6404_crosswalk.csv", encoding="utf-8")):
        code = b["kemendagri_code"]
        if code not in by_code:
            continue
        names = aliases.setdefault(code, [b["bps_code"]])
        if b["bps_name"].lower().replace(" ", "") != by_code[code]["name"].lower().replace(" ", ""):
            names.append(b["bps_name"])
    out = []
    for r in rows:
        path = []
        node = r
        while node is not None:
            path.insert(0, node)
            node = by_code.get(node["parent_code"])
        out.append(RegionV1(code=r["code"], name=r["name"], level=r["level"],
                            parent_code=r["parent_code"] or None,
                            path_codes=[p["code"] for p in path],
                            path_names=[p["name"] for p in path],
                            aliases=aliases.get(r["code"], [])))
    return out


def dataset(slug: str, title: str, *, version: int = 1, topic: str = "kependudukan",
            description: str = "", tags: list[str] | None = None,
            publisher: str | None = "disdukcapil") -> DatasetV1:
    return DatasetV1(
        slug=slug, title=title, description=description, topic=topic, tags=tags or [],
        publisher=publisher, frequency="annual", dimensions=["jenis_kelamin"],
        measures=["jumlah"],
        dimension_values={"jenis_kelamin": {"L": "Laki-laki", "P": "Perempuan"}},
        measure_info={"jumlah": {"label": "Jumlah", "unit": "jiwa", "type": "integer"}},
        metadata={"konsep": "Penduduk adalah orang yang berdomisili di wilayah", "produsen_data":
                  "Disdukcapil"},
        version=version, updated_at=datetime.now(timezone.utc))


def record(dataset_slug: str, region_code: str, period: str, value: int, *,
           record_id: uuid.UUID | None = None, version: int = 1, status: str = "current",
           sex: str = "L", publisher: str = "disdukcapil") -> RecordV1:
    return RecordV1(record_id=record_id or uuid.uuid4(), dataset=dataset_slug,
                    region_code=region_code, period=period, dimensions={"jenis_kelamin": sex},
                    values={"jumlah": value}, version=version, status=status,
                    publisher_id=publisher, changed_at=datetime.now(timezone.utc))


class Registry:
    """Publishes registry events the way the registry's outbox relay does."""

    def __init__(self, js, ns: bus.Namespace):
        self.js, self.ns = js, ns

    async def send(self, event: Event, *, event_id: uuid.UUID | None = None) -> Envelope:
        envelope = Envelope.wrap(event, event_id=event_id)
        await bus.publish(self.js, self.ns, envelope)
        return envelope

    async def regions(self, regions: list[RegionV1]) -> Envelope:
        return await self.send(RegionsChangedV1(regions=regions))

    async def datasets(self, *datasets: DatasetV1) -> Envelope:
        return await self.send(DatasetsChangedV1(datasets=list(datasets)))

    async def records(self, records: list[RecordV1]) -> Envelope:
        return await self.send(RecordsChangedV1(records=records))


@pytest.fixture
async def registry_bus(nats_url, nats_namespace):
    nc = await bus.connect(nats_url, "search-test")
    js = nc.jetstream()
    ns = bus.Namespace(nats_namespace)
    await bus.ensure_streams(js, ns)
    yield Registry(js, ns)
    await nc.close()


@pytest.fixture
async def search_app(search_db, search_settings):
    """A running search service (real uvicorn) and an HTTP client for it."""
    app = create_app(search_settings)
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=10, auth=signed()) as client:
        yield {"client": client, "pool": search_db, "app": app, "url": url}


async def query(client: httpx.AsyncClient, **params) -> dict:
    resp = await client.get("/v1/search", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()
