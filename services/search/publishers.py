"""Publishers' names for the publisher facet: the id is the value, the name its label.

Learnt from the events that carry them (a record's publisher_name, a dataset's publisher_id
with its `publisher` name) and, on a rebuild, from the registry's GET /v1/publishers.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import asyncpg
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


async def remember(conn: asyncpg.Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Keep the names that are new or changed. Nearly every batch names publishers already
    known by the same name: those are filtered out by a plain read first, because an upsert
    locks the row even when its WHERE leaves it unchanged, and the indexing loops would wait
    on each other's commits for nothing."""
    if not pairs:
        return
    await conn.execute("""
        INSERT INTO publishers AS p (id, name)
        SELECT i, n FROM unnest($1::text[], $2::text[]) x(i, n)
        WHERE NOT EXISTS (SELECT 1 FROM publishers k WHERE k.id = x.i AND k.name = x.n)
        ORDER BY i
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
        WHERE p.name IS DISTINCT FROM EXCLUDED.name""",
        [i for i, _ in pairs], [n for _, n in pairs])


async def from_registry(client: httpx.AsyncClient, registry_url: str) -> list[tuple[str, str]]:
    resp = await client.get(f"{registry_url.rstrip('/')}/v1/publishers")
    resp.raise_for_status()
    return sorted((p["id"], p["name"]) for p in resp.json()["items"])


def label_sql(facet: str, value: str) -> str:
    """SQL: the label of a dataset or publisher facet value (the dataset's title, the
    publisher's name), read inside the counting statement itself."""
    return f"""CASE {facet}
        WHEN 'dataset' THEN (SELECT s.title FROM datasets s WHERE s.slug = {value})
        WHEN 'publisher' THEN (SELECT p.name FROM publishers p WHERE p.id = {value}) END"""
