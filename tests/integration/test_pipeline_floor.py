"""The pipeline's set-based floor (bench/pipeline_floor.py) writes what the pipeline writes: a
floor that skipped work would measure less than the work, so its output is held to the
registry's apply path and search's indexing for the same chunk (records, held values with their
reasons and messages, search documents with their tsvector), row for row."""

from __future__ import annotations

import json
import uuid

from bench import pipeline_floor
from bench.bench_e2e import villages
from bench.common import sample_rows
from services.registry.datasets import service as datasets
from services.registry.publishing import apply
from services.registry.regions import service as regions
from services.search import indexing
from shared.contracts import DatasetV1, Envelope
from shared.numbers import format_number

DESA = "64.08.04.2001"


def _row(region: str, period: str, value: int | str, sex: str = "L") -> dict:
    return {"region": region, "period": period, "jenis_kelamin": sex, "jumlah": value}


async def _index(registry, search, since: int) -> int:
    """Search indexes the registry's events written after outbox id ``since``, as its consumer
    would; returns the last id."""
    rows = await registry.fetch("SELECT id, payload::text AS payload FROM registry.outbox "
                                "WHERE id > $1 ORDER BY id", since)
    async with search.acquire() as conn:
        for r in rows:
            async with conn.transaction():
                await indexing.apply_envelope(conn, Envelope.model_validate_json(r["payload"]))
    return rows[-1]["id"] if rows else since


async def _pipeline(registry, rows: list[dict]) -> None:
    async with registry.acquire() as conn, conn.transaction():
        outcome = await apply.apply_rows(conn, dataset_slug="jumlah-penduduk",
                                         publisher_id="disdukcapil", rows=rows,
                                         submission_id=uuid.uuid4())
    assert not outcome.rejected, outcome.rejected


def _plain(outputs: dict) -> dict:
    """JSON columns compared as values (1000000.0 and 1000000 are one number)."""
    return {name: {key: {k: json.loads(v) if k in ("dims", "vals", "base_vals", "reasons",
                                                    "values") and v is not None else v
                         for k, v in row.items()}
                   for key, row in found.items()}
            for name, found in outputs.items()}


async def test_the_floor_writes_what_the_pipeline_writes(database_url, registry_db, search_db):
    registry, _ = registry_db
    async with registry.acquire() as conn:
        region_events = await regions.region_events(conn)
        dataset_events = [DatasetV1.model_validate(d) for d in await datasets.dataset_events(conn)]
    async with search_db.acquire() as conn, conn.transaction():
        await indexing.apply_regions(conn, region_events)
    async with search_db.acquire() as conn, conn.transaction():
        await indexing.apply_datasets(conn, dataset_events)
    places = villages()
    desa = set(await registry.fetchval(
        "SELECT array_agg(code) FROM registry.regions WHERE level = 'desa'"))
    dataset_id = await registry.fetchval(
        "SELECT id FROM registry.datasets WHERE slug = 'jumlah-penduduk'")
    # stored before: four years of one village (its history) and 2023 for 15 others (peers)
    await _pipeline(registry, [_row(DESA, str(year), value, sex)
                               for year, value in zip(range(2019, 2023), (100, 104, 98, 101))
                               for sex in ("L", "P")])
    peers = [r for r in sample_rows(2 * len(places), places, 2023)
             if r["jenis_kelamin"] == "L" and r["region"] in desa - {DESA}][:15]
    await _pipeline(registry, peers)
    since = await _index(registry, search_db, 0)

    # the chunk: every village's 2023 (DESA's far from its history, a new village far from its
    # peers, one peer's value changed, the rest of the peers unchanged), numbers typed 1.234
    chunk = sample_rows(2 * len(places), places, 2023)
    far_from_peers = next(r for r in chunk if r["jenis_kelamin"] == "L" and r["region"] in desa
                          and r["region"] not in {p["region"] for p in peers} | {DESA})
    far_from_peers["jumlah"] = 1_000_000
    changed = next(r for r in chunk if r["region"] == peers[0]["region"]
                   and r["jenis_kelamin"] == "L")
    changed["jumlah"] += 7
    assert len(chunk) <= pipeline_floor.CHUNK

    captured: dict = {}
    floor = await pipeline_floor.measure(database_url, chunk, None, capture=captured)
    assert (floor["applied"], floor["held"]) == (len(chunk) - 15 + 1 - 3, 3)
    async with registry.acquire() as conn:  # the floor rolled back: nothing of it is left
        before = await pipeline_floor.outputs(conn, dataset_id, ["2023"])
    assert len(before["records"]) == 15 and not before["held"]

    await _pipeline(registry, [{**r, "jumlah": format_number(r["jumlah"], "id")}
                               for r in chunk])
    await _index(registry, search_db, since)
    async with registry.acquire() as conn:
        path = await pipeline_floor.outputs(conn, dataset_id, ["2023"])

    floor_out, path_out = _plain(captured), _plain(path)
    assert len(path_out["records"]) == len(chunk) - 3 and len(path_out["held"]) == 3
    assert len(path_out["documents"]) == len(chunk) - 3
    reasons = {key: row["reasons"][0]["basis"] for key, row in path_out["held"].items()}
    assert sorted(reasons.values()) == ["history", "history", "peers"]
    for name in ("records", "held", "documents"):
        assert floor_out[name] == path_out[name], name
