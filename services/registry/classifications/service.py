"""Reference classifications (KBLI, KBJI, ...): the walidata loads a classification's codes
from the source it names; a dataset's dimension that declares one (``classification``) takes
its codes from it, so every row is checked against them by the dimension's allowed values.
A dimension may list part of a classification (the codes it uses); a code outside it is
refused when the dataset is defined. Loading a classification again (a new edition) leaves
datasets already defined as they are."""

from __future__ import annotations

import asyncpg

from services.registry.audit import service as audit
from services.registry.classifications import store
from shared.auth import Principal
from shared.contracts import DatasetSchemaV1
from shared.errors import NotFound, Unprocessable


async def _known(conn: asyncpg.Connection) -> str:
    """The classifications loaded, for a message that names what there is."""
    return ", ".join(s["name"] for s in await store.summaries(conn)) or "belum ada"


async def put(conn: asyncpg.Connection, principal: Principal, name: str, body: dict) -> dict:
    await store.put(conn, name, body["title"], body["source"], body["codes"],
                    principal.publisher_id)
    loaded = await store.get(conn, name)
    await audit.record(conn, principal, "classification.load", name,
                       {"count": loaded["count"], "hash": loaded["hash"]})
    return loaded


async def get(conn: asyncpg.Connection, name: str) -> dict:
    found = await store.get(conn, name)
    if found is None:
        raise NotFound(f"Klasifikasi '{name}' tidak ada. Yang tersedia: {await _known(conn)}.",
                       code="classification_not_found")
    return found


async def summaries(conn: asyncpg.Connection) -> list[dict]:
    return await store.summaries(conn)


async def apply_to(conn: asyncpg.Connection, schema: DatasetSchemaV1) -> DatasetSchemaV1:
    """The schema with each classified dimension's codes taken from its classification (all
    of them, or the labels of the part it lists). 422 ``unknown_classification`` for one
    not loaded, ``not_in_classification`` for a listed code outside it."""
    dims = []
    for dim in schema.dimensions:
        if dim.classification is None:
            dims.append(dim)
            continue
        found = await store.get(conn, dim.classification)
        if found is None:
            raise Unprocessable(
                f"Dimensi '{dim.name}' memakai klasifikasi '{dim.classification}' yang belum "
                f"dimuat walidata. Klasifikasi yang ada: {await _known(conn)}.",
                code="unknown_classification",
                details=[{"field": f"schema.dimensions.{dim.name}.classification",
                          "code": "unknown_classification"}])
        codes = found["codes"]
        outside = sorted(set(dim.values) - set(codes))
        if outside:
            raise Unprocessable(
                f"Kode dimensi '{dim.name}' tidak ada di {found['title']}: "
                f"{', '.join(outside[:20])}.", code="not_in_classification",
                details=[{"field": f"schema.dimensions.{dim.name}.values", "code":
                          "not_in_classification", "message": f"'{c}' bukan kode "
                          f"{dim.classification}."} for c in outside[:100]])
        dims.append(dim.model_copy(update={"values": {c: codes[c] for c in dim.values}
                                           if dim.values else dict(codes)}))
    return schema.model_copy(update={"dimensions": dims})
