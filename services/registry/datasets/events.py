"""The dataset event the registry publishes (through the outbox) when a dataset changes."""

from __future__ import annotations

import asyncpg

from services.registry.settings import SCHEMA
from shared import outbox
from shared.contracts import DatasetsChangedV1, DatasetV1


# Fields of the event read as they are stored; the rest are derived below. A new dataset
# field carried by the event is declared on DatasetV1 with the column's name: nothing here.
_AS_STORED = tuple(n for n in DatasetV1.model_fields
                   if n not in {"schema_", "publisher", "publisher_id", "retracted"}
                   and n not in DatasetV1.derived_from_schema)


def dataset_event(d: dict) -> DatasetV1:
    return DatasetV1.from_schema(
        d["schema"], **{n: d[n] for n in _AS_STORED if d.get(n) is not None},
        publisher=(d["metadata"] or {}).get("produsen_data"),
        publisher_id=(d.get("authoritative") or [None])[0],
        retracted=d.get("retracted_at") is not None)


async def publish_dataset(conn: asyncpg.Connection, dataset: dict) -> dict:
    await outbox.add(conn, SCHEMA, DatasetsChangedV1(datasets=[dataset_event(dataset)]))
    return dataset
