"""Citizens say a figure is wrong: a report needs no account, lands on the walidata's desk
beside the record, and marks the figure "sedang ditinjau" until the walidata answers. The
contact (optional) is never published and is deleted once the report has been answered for
the retention period (UU 27/2022 on personal data protection)."""

from __future__ import annotations

import uuid

import asyncpg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.registry.audit import service as audit
from services.registry.datasets import service as datasets
from services.registry.feedback import store
from services.registry.regions import service as regions
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable
from shared.reporting_calendar import valid_period


class FeedbackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")
    report_contact_days: int = Field(30, ge=0, le=3650, description="days a citizen's contact "
                                     "is kept after the walidata answered the report or "
                                     "decided the data request")


PUBLIC = ("id", "dataset", "region_code", "period", "measure", "status", "answer",
          "created_at", "answered_at")


def _shown(row: dict, reader: Principal | None) -> dict:
    out = {k: row[k] for k in PUBLIC} | {"dimensions": row["dims"]}
    if reader is not None and reader.is_steward:
        out |= {k: row[k] for k in ("message", "contact", "contact_deleted_at")}
    return out


async def submit(conn: asyncpg.Connection, body: dict) -> dict:
    """A citizen's report, checked against the dataset (its period format, dimensions and
    measures) and the region; refused with the field to fix."""
    dataset = await datasets.get_dataset_row(conn, body["dataset"])
    if dataset is None or dataset["retracted_at"] is not None:
        raise NotFound(f"Dataset '{body['dataset']}' tidak ada.", code="dataset_not_found")
    schema = dataset["schema"]
    if await regions.get_region(conn, body["region"]) is None:
        raise Unprocessable(f"Wilayah '{body['region']}' tidak ada.", code="region_unknown")
    if not valid_period(dataset["frequency"], body["period"]):
        raise Unprocessable(f"Periode '{body['period']}' tidak sesuai frekuensi dataset.",
                            code="period_format")
    unknown = set(body["dimensions"]) - set(schema.dimension_names)
    if unknown or (body["measure"] and body["measure"] not in schema.measure_names):
        raise Unprocessable("Kolom yang disebut tidak ada di dataset ini.",
                            code="unknown_field")
    await store.forget_contacts(conn, FeedbackSettings().report_contact_days)
    row = await store.insert(conn, dataset_id=dataset["id"], region_code=body["region"],
                             period=body["period"], dims=body["dimensions"],
                             measure=body["measure"], message=body["message"].strip(),
                             contact=(body["contact"] or "").strip() or None)
    return _shown(row, None)


async def listed(conn: asyncpg.Connection, reader: Principal | None, *, dataset: str | None,
                 status: str | None, limit: int) -> dict:
    dataset_id = None
    if dataset:
        found = await datasets.get_dataset_row(conn, dataset)
        if found is None:
            raise NotFound(f"Dataset '{dataset}' tidak ada.", code="dataset_not_found")
        dataset_id = found["id"]
    days = FeedbackSettings().report_contact_days
    rows = await store.listed(conn, dataset_id=dataset_id, status=status, limit=limit)
    return {"items": [_shown(r, reader) for r in rows], "retention_days": days}


async def answer(conn: asyncpg.Connection, steward: Principal, report_id: uuid.UUID,
                 text: str) -> dict:
    row = await store.get(conn, report_id, lock=True)
    if row is None:
        raise NotFound(f"Laporan {report_id} tidak ada.", code="report_not_found")
    if row["status"] != "open":
        raise Conflict("Laporan ini sudah dijawab.", code="report_answered")
    await store.answer(conn, report_id, text.strip(), steward.publisher_id)
    await audit.record(conn, steward, "feedback.answer", str(report_id),
                       {"dataset": row["dataset"], "region_code": row["region_code"],
                        "period": row["period"]})
    await store.forget_contacts(conn, FeedbackSettings().report_contact_days)
    return _shown(await store.get(conn, report_id), steward)
