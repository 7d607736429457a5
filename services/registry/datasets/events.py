"""The dataset event the registry publishes (through the outbox) when a dataset changes."""

from __future__ import annotations

import asyncpg

from services.registry.settings import SCHEMA
from shared import outbox
from shared.contracts import DatasetsChangedV1, DatasetV1


def dataset_event(d: dict) -> DatasetV1:
    return DatasetV1.from_schema(
        d["schema"],
        slug=d["slug"], title=d["title"], description=d["description"], topic=d["topic"],
        tags=list(d["tags"]), publisher=(d["metadata"] or {}).get("produsen_data"),
        publisher_id=(d.get("authoritative") or [None])[0],
        metadata=d["metadata"] or {}, retracted=d.get("retracted_at") is not None,
        frequency=d["frequency"], version=d["version"], updated_at=d["updated_at"],
        created_at=d.get("created_at"))


async def publish_dataset(conn: asyncpg.Connection, dataset: dict) -> dict:
    await outbox.add(conn, SCHEMA, DatasetsChangedV1(datasets=[dataset_event(dataset)]))
    return dataset
