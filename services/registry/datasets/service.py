"""Dataset use cases: the catalogue, create and update with the required metadata, withdrawal
with a reason and restoring. Every function runs in the caller's transaction; changes go out
through the outbox. Every dataset answer carries its up-to-dateness (``last_updated``,
``currency``, datasets/currency.py) and its schedule (grace days)."""

from __future__ import annotations

import asyncpg

from services.registry.audit import service as audit
from services.registry.classifications import service as classifications
from services.registry.datasets import store
from services.registry.datasets.events import dataset_event, publish_dataset
from services.registry.datasets.models import REQUIRED_METADATA
from services.registry.datasets import currency
from shared.auth import Principal, ensure_steward
from shared.contracts import DatasetSchemaV1
from shared.errors import Conflict, Gone, NotFound, Unprocessable


async def list_datasets(conn: asyncpg.Connection, *, retracted: bool | None = False
                        ) -> list[dict]:
    return await store.list_datasets(conn, retracted=retracted)


async def catalogue(conn: asyncpg.Connection, *, retracted: bool,
                    reader: Principal | None = None) -> list[dict]:
    """The catalogue's answers: each dataset with its up-to-dateness. The catalogue is
    public; its withdrawn half is the walidata's."""
    if retracted:
        ensure_steward(reader)
    return await currency.with_currency(conn, await list_datasets(conn, retracted=retracted))


async def answer(conn: asyncpg.Connection, dataset: dict) -> dict:
    """One dataset's answer: the row with ``last_updated`` and ``currency`` """
    return {**dataset, **await currency.up_to_dateness(conn, dataset)}


async def show_dataset(conn: asyncpg.Connection, slug: str, *,
                       reader: Principal | None) -> dict:
    """A withdrawn dataset is 410 with the reason, except to the walidata (to restore it)."""
    steward = reader is not None and reader.is_steward
    return await answer(conn, await get_dataset(conn, slug, allow_retracted=steward))


async def dataset_exists(conn: asyncpg.Connection, slug: str) -> bool:
    return await store.get_dataset(conn, slug) is not None


async def dataset_events(conn: asyncpg.Connection) -> list[dict]:
    """Every dataset, withdrawn ones included, as the event readers rebuild from."""
    return [dataset_event(d).model_dump(mode="json")
            for d in await store.list_datasets(conn, retracted=None)]


def retracted_error(what: str, dataset: dict) -> Gone:
    """410 for anything of a withdrawn dataset, with the walidata's reason."""
    when = dataset["retracted_at"].strftime("%d-%m-%Y")
    return Gone(f"{what} ditarik oleh walidata pada {when}. Alasan: "
                f"{dataset['retraction_reason']}", code="dataset_retracted",
                details=[{"dataset": dataset["slug"], "reason": dataset["retraction_reason"],
                          "retracted_at": dataset["retracted_at"].isoformat()}])


async def get_dataset(conn: asyncpg.Connection, slug: str, *,
                      allow_retracted: bool = False) -> dict:
    dataset = await store.get_dataset(conn, slug)
    if dataset is None:
        known = ", ".join(d["slug"] for d in await store.list_datasets(conn))
        raise NotFound(f"Dataset '{slug}' tidak ada. Dataset yang tersedia: {known}.",
                       code="dataset_not_found")
    if dataset["retracted_at"] is not None and not allow_retracted:
        raise retracted_error(f"Dataset '{slug}'", dataset)
    return dataset


def check_required_metadata(data: dict) -> None:
    """The Satu Data Indonesia keys every dataset carries (422 naming each missing one)."""
    meta = data.get("metadata") or {}
    missing = [f"metadata.{k}" for k in REQUIRED_METADATA
               if not isinstance(meta.get(k), str) or not meta[k].strip()]
    if not data.get("frequency"):
        missing.append("frequency")
    if missing:
        raise Unprocessable(
            f"Metadata wajib belum diisi: {', '.join(missing)}. Setiap dataset Satu Data "
            "menyebut produsen data, walidata, konsep, definisi, satuan, dan frekuensinya.",
            code="metadata_required",
            details=[{"field": f, "code": "missing", "message": f"{f} wajib diisi."}
                     for f in missing])


async def create_dataset(conn: asyncpg.Connection, data: dict, *,
                         by: Principal | None = None) -> dict:
    """``by``: the walidata who asked, written to the audit log; None only for the platform
    itself (seeding, benchmarks), which no request reaches."""
    check_required_metadata(data)
    data = {**data, "schema": await classifications.apply_to(
        conn, DatasetSchemaV1.model_validate(data["schema"]))}
    if await store.get_dataset(conn, data["slug"]):
        raise Conflict(f"Dataset '{data['slug']}' sudah ada.", code="dataset_exists")
    created = await publish_dataset(conn, await store.insert_dataset(conn, data))
    if by is not None:
        await audit.record(conn, by, "dataset.create", created["slug"],
                           {"version": created["version"]})
    return await answer(conn, created)


FREQUENCY_WORDS = {"annual": "tahunan", "semester": "semesteran", "quarterly": "triwulanan",
                   "monthly": "bulanan"}


async def update_dataset(conn: asyncpg.Connection, principal: Principal, slug: str,
                         changes: dict) -> dict:
    current = await get_dataset(conn, slug, allow_retracted=True)
    check_required_metadata({**current, **changes})
    wanted = changes.get("frequency")
    if (wanted and wanted != current["frequency"]
            and await store.has_records(conn, current["id"])):
        # (every stored period is in the old frequency's format, which no other one shares:
        # the dataset's up-to-dateness could not be read, nor its old rows checked again)
        old, new = FREQUENCY_WORDS[current["frequency"]], FREQUENCY_WORDS[wanted]
        raise Conflict(f"Dataset '{slug}' sudah berisi data {old}; frekuensinya tidak dapat "
                       f"diubah menjadi {new}. Buat dataset baru untuk data {new}.",
                       code="frequency_fixed_by_data",
                       details=[{"field": "frequency", "current": current["frequency"],
                                 "requested": wanted}])
    if changes.get("schema") is not None:
        changes = {**changes, "schema": await classifications.apply_to(
            conn, DatasetSchemaV1.model_validate(changes["schema"]))}
    updated = await publish_dataset(conn, await store.update_dataset(conn, slug, changes))
    await audit.record(conn, principal, "dataset.update", slug,
                       {"changed": sorted(changes), "version": updated["version"]})
    return await answer(conn, updated)


async def retract_dataset(conn: asyncpg.Connection, principal: Principal, slug: str,
                          reason: str) -> dict:
    """Hidden from the catalogue, search, CKAN and exports; its URLs answer 410 with the
    reason until restored."""
    dataset = await get_dataset(conn, slug, allow_retracted=True)
    if dataset["retracted_at"] is not None:
        raise Conflict(f"Dataset '{slug}' sudah ditarik.", code="dataset_already_retracted")
    await audit.record(conn, principal, "dataset.retract", slug, {"reason": reason})
    return await answer(conn, await publish_dataset(conn, await store.set_dataset_retraction(
        conn, slug, by=principal.publisher_id, reason=reason.strip())))


async def restore_dataset(conn: asyncpg.Connection, principal: Principal, slug: str) -> dict:
    dataset = await get_dataset(conn, slug, allow_retracted=True)
    if dataset["retracted_at"] is None:
        raise Conflict(f"Dataset '{slug}' tidak sedang ditarik.", code="dataset_not_retracted")
    await audit.record(conn, principal, "dataset.restore", slug)
    return await answer(conn, await publish_dataset(conn, await store.set_dataset_retraction(
        conn, slug, by=principal.publisher_id, reason=None)))


async def get_dataset_row(conn: asyncpg.Connection, slug: str) -> dict | None:
    """The dataset's row as stored, withdrawn or not; None when there is none."""
    return await store.get_dataset(conn, slug)


async def existing_dataset_slugs(conn: asyncpg.Connection, slugs: list[str]) -> set[str]:
    return await store.existing_dataset_slugs(conn, slugs)


# The dataset's schedule: days of grace after a period ends before it counts as late.
up_to_dateness = currency.up_to_dateness
grace_days = store.grace_days
dataset_has_records = store.has_records
all_grace_days = store.all_grace_days
set_grace_days = store.set_grace_days
