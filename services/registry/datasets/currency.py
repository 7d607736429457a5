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
    """Dataset rows with ``last_updated`` and ``currency`` (three set-based reads for all)."""
    if not datasets:
        return []
    latest, graces = await store.latest_data_all(conn), await store.all_grace_days(conn)
    now = clock.now()
    covered = await _coverage(conn, datasets, graces, now)
    return [{**d, **currency_fields(d, graces.get(d["id"]), *latest.get(d["id"], (None, None)),
                                    now, covered.get(d["id"]))} for d in datasets]


async def up_to_dateness(conn: asyncpg.Connection, dataset: dict) -> dict:
    """``last_updated`` and ``currency`` of one dataset."""
    period, at = await store.latest_data(conn, dataset["id"])
    custom = await store.grace_days(conn, dataset["id"])
    now = clock.now()
    covered = await _coverage(conn, [dataset], {dataset["id"]: custom}, now)
    return currency_fields(dataset, custom, period, at, now, covered.get(dataset["id"]))


def _grace(dataset: dict, custom: int | None) -> int:
    return custom if custom is not None else calendar.DEFAULT_GRACE_DAYS[dataset["frequency"]]


UNIT_WORD = {"desa": "desa", "kelurahan": "desa/kelurahan", "kecamatan": "kecamatan",
             "kabupaten": "kabupaten"}


async def _coverage(conn: asyncpg.Connection, datasets: list[dict], graces: dict,
                    now: datetime) -> dict[int, calendar.Coverage]:
    """Per dataset, its units that sent the period due by now, of those valid in it."""
    wanted = [(d["id"], calendar.latest_due(d["frequency"], _grace(d, graces.get(d["id"])), now),
               d["schema"].levels) for d in datasets]
    counts = await store.coverage(conn, wanted)
    words = {d["id"]: UNIT_WORD.get(d["schema"].levels[0], "wilayah") for d in datasets}
    return {i: calendar.Coverage(*counts[i], words[i]) for i in counts}


def currency_fields(dataset: dict, custom: int | None, period: str | None,
                    at: datetime | None, now: datetime,
                    coverage: calendar.Coverage | None = None) -> dict:
    c = calendar.currency(dataset["frequency"], _grace(dataset, custom), period, now,
                          dataset.get("created_at"), coverage)
    return {"last_updated": at or dataset.get("updated_at"),
            "currency": {"status": c.status, "label": c.label, "current": c.status == "mutakhir",
                         "latest_period": c.latest_period, "expected_period": c.expected_period,
                         "days_late": c.days_late, "reported": c.reported,
                         "expected_units": c.expected_units}}
