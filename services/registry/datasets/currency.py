"""Up-to-dateness of datasets: when each last changed and whether it is current for its
frequency ("mutakhir", "terlambat 3 bulan"). The hook every dataset answer calls
(datasets/service.py); timeliness reads it through the datasets use cases.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.registry.datasets import store
from shared import reporting_calendar as calendar
from shared import clock


async def with_currency(conn: asyncpg.Connection, datasets: list[dict]) -> list[dict]:
    """Dataset rows with ``last_updated`` and ``currency`` (two set-based reads for all)."""
    if not datasets:
        return []
    latest, graces = await store.latest_data_all(conn), await store.all_grace_days(conn)
    now = clock.now()
    return [{**d, **currency_fields(d, graces.get(d["id"]), *latest.get(d["id"], (None, None)),
                                    now)} for d in datasets]


async def up_to_dateness(conn: asyncpg.Connection, dataset: dict) -> dict:
    """``last_updated`` and ``currency`` of one dataset."""
    period, at = await store.latest_data(conn, dataset["id"])
    custom = await store.grace_days(conn, dataset["id"])
    return currency_fields(dataset, custom, period, at, clock.now())


def currency_fields(dataset: dict, custom: int | None, period: str | None,
                    at: datetime | None, now: datetime) -> dict:
    frequency = dataset["frequency"]
    grace = custom if custom is not None else calendar.DEFAULT_GRACE_DAYS[frequency]
    c = calendar.currency(frequency, grace, period, now, dataset.get("created_at"))
    return {"last_updated": at or dataset.get("updated_at"),
            "currency": {"status": c.status, "label": c.label, "current": c.status == "mutakhir",
                         "latest_period": c.latest_period, "expected_period": c.expected_period,
                         "days_late": c.days_late}}
