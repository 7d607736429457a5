"""Statistical metadata use cases: a producer (or the walidata) submits a dataset's forms as a
new held version; the walidata verifies it or returns it with a note, as it does held values;
the public reads the newest verified version with what it still lacks. An indicator's formula
and components must name the dataset's own measures (422 ``unknown_measure``). Every write is
audited; every version stores the hash of what it stores."""

from __future__ import annotations

import ast

import asyncpg

from services.registry.audit import service as audit
from services.registry.datasets import service as datasets
from services.registry.statistical_metadata import models, store
from shared.auth import Principal, ensure_steward
from shared.contracts import DatasetSchemaV1
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable

FORMULA_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Load,
                 ast.Add, ast.Sub, ast.Mult, ast.Div, ast.USub, ast.UAdd)


def formula_names(formula: str) -> list[str]:
    """The measure names a formula reads (arithmetic over names and numbers only)."""
    try:
        tree = ast.parse(formula.replace("×", "*").replace("÷", "/"), mode="eval")
    except SyntaxError:
        tree = None
    if tree is None or not all(isinstance(n, FORMULA_NODES) for n in ast.walk(tree)) or any(
            isinstance(n, ast.Constant) and not isinstance(n.value, (int, float))
            for n in ast.walk(tree)):
        raise Unprocessable(
            f"Rumus '{formula}' tidak dapat dibaca: tulis dengan nama ukuran dataset, angka, "
            "+ - * / dan tanda kurung, mis. 'penduduk_miskin / jumlah_penduduk * 100'.",
            code="invalid_formula", details=[{"field": "rumus", "code": "invalid_formula"}])
    return sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)})


def check(document: models.Document, schema: DatasetSchemaV1) -> None:
    """Every measure named (as a key, in a formula, as a component) is one of the dataset's."""
    known = [m.name for m in schema.measures]
    unknown = []
    for name, meta in document.measures.items():
        where = f"measures.{name}"
        if name not in known:
            unknown.append((where, name))
        if isinstance(meta, models.Indikator):
            named = (formula_names(meta.rumus) if meta.rumus else []) + meta.indikator_pembangun
            unknown += [(f"{where}.rumus" if n not in meta.indikator_pembangun
                         else f"{where}.indikator_pembangun", n) for n in named
                        if n not in known]
    if unknown:
        raise Unprocessable(
            "Ukuran yang disebut tidak ada di dataset ini: "
            + ", ".join(sorted({n for _, n in unknown}))
            + f". Ukuran dataset: {', '.join(known)}.", code="unknown_measure",
            details=[{"field": where, "code": "unknown_measure",
                      "message": f"'{n}' bukan ukuran dataset ini."} for where, n in unknown])


def missing(document: dict | None, schema: DatasetSchemaV1) -> list[str]:
    """What a complete set of forms still needs, field by field."""
    document = document or {}
    kegiatan = document.get("kegiatan") or {}
    out = [f"kegiatan.{f}" for f in models.REQUIRED["MS-Kegiatan"]
           if models.empty(kegiatan.get(f))]
    measures = document.get("measures") or {}
    for measure in schema.measures:
        meta = measures.get(measure.name)
        if meta is None:
            out.append(f"measures.{measure.name}")
            continue
        required = models.REQUIRED[models.FORM_OF[meta["jenis"]]]
        if meta["jenis"] == "indikator" and meta.get("komposit"):
            required += ("indikator_pembangun",)
        out += [f"measures.{measure.name}.{f}" for f in required if models.empty(meta.get(f))]
    return out


def _ordered(document: dict, schema: DatasetSchemaV1) -> dict:
    """The measures in the dataset's order (jsonb keeps its own), then any others."""
    measures = document.get("measures") or {}
    order = [m.name for m in schema.measures if m.name in measures]
    return {**document, "measures": {n: measures[n] for n in order + sorted(
        set(measures) - set(order))}}


def _answer(version: dict, schema: DatasetSchemaV1) -> dict:
    lacking = missing(version["document"], schema)
    return {**version, "document": _ordered(version["document"], schema),
            "complete": not lacking, "missing": lacking}


def _may_submit(principal: Principal, dataset: dict) -> None:
    if not principal.is_steward and not principal.may_write(dataset["slug"]):
        raise Forbidden(f"Kunci ini tidak boleh menulis dataset '{dataset['slug']}'; metadata "
                        "statistiknya diisi produsen datanya atau walidata.",
                        code="dataset_not_allowed")


async def submit(conn: asyncpg.Connection, principal: Principal, slug: str,
                 document: models.Document) -> dict:
    dataset = await datasets.get_dataset(conn, slug)
    _may_submit(principal, dataset)
    check(document, dataset["schema"])
    version = await store.add_version(conn, dataset["id"],
                                      document.model_dump(mode="json", exclude_none=True),
                                      principal.publisher_id)
    await audit.record(conn, principal, "statistical_metadata.submit", slug,
                       {"version": version["version"], "hash": version["hash"]})
    return _answer(version, dataset["schema"])


async def decide(conn: asyncpg.Connection, principal: Principal, slug: str, version: int,
                 status: str, note: str | None) -> dict:
    ensure_steward(principal)
    dataset = await datasets.get_dataset(conn, slug)
    decided = await store.decide(conn, dataset["id"], version, status, note,
                                 principal.publisher_id)
    if decided is None:
        current = await store.get_version(conn, dataset["id"], version)
        if current is None:
            raise NotFound(f"Metadata statistik '{slug}' versi {version} tidak ada.",
                           code="metadata_version_not_found")
        raise Conflict(f"Versi {version} sudah diputuskan ({current['status']}); hanya versi "
                       "yang ditahan yang dapat diverifikasi atau dikembalikan.",
                       code="metadata_not_held")
    await audit.record(conn, principal, f"statistical_metadata.{status}", slug,
                       {"version": version, "note": note, "hash": decided["hash"]})
    return _answer(decided, dataset["schema"])


async def history(conn: asyncpg.Connection, principal: Principal, slug: str,
                  before: int | None, limit: int) -> dict:
    dataset = await datasets.get_dataset(conn, slug)
    _may_submit(principal, dataset)
    rows = await store.versions(conn, dataset["id"], before, limit + 1)
    more = len(rows) > limit
    return {"items": [_answer(v, dataset["schema"]) for v in rows[:limit]],
            "next_cursor": str(rows[limit - 1]["version"]) if more else None}


async def published(conn: asyncpg.Connection, slug: str) -> dict:
    dataset = await datasets.get_dataset(conn, slug)
    (version, held), = (await store.published(conn, [dataset["id"]])).values()
    shown = version and _answer(version, dataset["schema"])
    lacking = shown["missing"] if shown else missing(None, dataset["schema"])
    return {"dataset": slug, "title": dataset["title"], "published": shown,
            "held_version": held, "complete": not lacking, "missing": lacking,
            "labels": models.labels()}


async def overview(conn: asyncpg.Connection, *, complete: bool | None = None,
                   every: list[dict] | None = None) -> dict:
    """Every dataset in force (``every``: when the caller already read them) with its
    verified metadata and what it lacks (the walidata's desk, EPSS, CKAN and DCAT read this)."""
    every = await datasets.list_datasets(conn) if every is None else every
    found = await store.published(conn, [d["id"] for d in every])
    items = []
    for d in every:
        version, held = found[d["id"]]
        lacking = missing(version and version["document"], d["schema"])
        items.append({"dataset": d["slug"], "title": d["title"],
                      "version": version and version["version"], "held_version": held,
                      "complete": not lacking, "missing": lacking,
                      "document": version and _ordered(version["document"], d["schema"])})
    done = sum(i["complete"] for i in items)
    if complete is not None:
        items = [i for i in items if i["complete"] == complete]
    return {"items": items, "count": len(items), "complete": done}
