"""Publishers' names for the publisher facet: the id is the value, the name its label.

Learnt from the events that carry them (a record's publisher_name, a dataset's publisher_id
with its `publisher` name) and, on a rebuild, from the registry's GET /v1/publishers.
"""

from __future__ import annotations

from typing import Iterable

import httpx

from shared.contracts import DatasetV1, RecordV1


def named(items: Iterable[RecordV1 | DatasetV1 | tuple]) -> list[tuple[str, str]]:
    """(id, name) of the publishers the items name."""
    out: dict[str, str] = {}
    for x in items:
        if isinstance(x, RecordV1) and x.publisher_id and x.publisher_name:
            out[x.publisher_id] = x.publisher_name
        elif isinstance(x, DatasetV1) and x.publisher_id and x.publisher:
            out[x.publisher_id] = x.publisher
    return sorted(out.items())


async def from_registry(client: httpx.AsyncClient, registry_url: str) -> list[tuple[str, str]]:
    resp = await client.get(f"{registry_url.rstrip('/')}/v1/publishers")
    resp.raise_for_status()
    return sorted((p["id"], p["name"]) for p in resp.json()["items"])
