"""Timeliness use cases: schedules, who is on time or late, and up-to-dateness.

Per dataset, period and expected unit (region at the dataset's levels), the status is
``on_time`` (first record arrived by the due date), ``late`` (arrived after it), ``missing``
(nothing yet and the due date has passed: the unit is late now) or ``not_yet_due``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.registry.access import service as access_service
from services.registry.datasets import service as datasets
from services.registry.regions import service as regions_service
from services.registry.timeliness import store
from shared import reporting_calendar as calendar
from shared.reporting_calendar import valid_period
from shared import clock
from shared.auth import Principal
from shared.errors import NotFound, Unprocessable
from shared.pagination import decode_cursor, page


def region_levels(dataset: dict) -> list[str]:
    """The levels a dataset expects a row from (desa and kelurahan unless its schema says)."""
    return dataset["schema"].levels


async def schedule(conn: asyncpg.Connection, slug: str) -> dict:
    dataset = await datasets.get_dataset(conn, slug)
    custom = await datasets.grace_days(conn, dataset["id"])
    return describe_schedule(dataset, custom, clock.now())


def describe_schedule(dataset: dict, custom: int | None, now: datetime) -> dict:
    frequency = dataset["frequency"]
    grace = custom if custom is not None else calendar.DEFAULT_GRACE_DAYS[frequency]
    last, nxt = calendar.latest_due(frequency, grace, now), calendar.upcoming(frequency, grace, now)
    return {"dataset": dataset["slug"], "frequency": frequency, "grace_days": grace,
            "default_grace_days": calendar.DEFAULT_GRACE_DAYS[frequency],
            "custom": custom is not None, "due_time": "23:59 WITA",
            "latest_due": {"period": last, "due_at": calendar.due_at(frequency, last, grace)},
            "upcoming": {"period": nxt, "due_at": calendar.due_at(frequency, nxt, grace)}}


async def set_schedule(conn: asyncpg.Connection, principal: Principal, slug: str,
                       grace_days: int) -> dict:
    dataset = await datasets.get_dataset(conn, slug)
    await datasets.set_grace_days(conn, dataset["id"], grace_days, principal.publisher_id)
    return describe_schedule(dataset, grace_days, clock.now())


async def currency_of(conn: asyncpg.Connection, slug: str) -> dict:
    return await datasets.up_to_dateness(conn, await datasets.get_dataset(conn, slug))


def responsible(publishers: list[dict], slug: str, path: list[str]) -> dict | None:
    """The most local publisher that may write ``slug`` for a unit with this region path."""
    best, depth = None, -1
    for p in publishers:
        if p["kind"] == "walidata" or p["region_scope"] not in path or not (
                slug in p["datasets"] or "*" in p["datasets"]):
            continue
        if path.index(p["region_scope"]) > depth:
            best, depth = p, path.index(p["region_scope"])
    return best


def unit_status(submitted: datetime | None, due: datetime, now: datetime) -> tuple[str, int]:
    """(status, days late) of one unit for one period."""
    if submitted is not None:
        late = (submitted - due).days + 1 if submitted > due else 0
        return ("late", late) if late else ("on_time", 0)
    if now > due:
        return "missing", (now - due).days + 1
    return "not_yet_due", 0


async def _periods(conn, dataset: dict, period: str | None, now: datetime) -> tuple[list, int]:
    custom = await datasets.grace_days(conn, dataset["id"])
    frequency = dataset["frequency"]
    grace = custom if custom is not None else calendar.DEFAULT_GRACE_DAYS[frequency]
    if period is not None:
        if not valid_period(frequency, period):
            raise Unprocessable(f"Periode '{period}' tidak sesuai frekuensi dataset "
                                f"{dataset['slug']} ({frequency}).", code="period_format")
        return [period], grace
    return [calendar.latest_due(frequency, grace, now),
            calendar.upcoming(frequency, grace, now)], grace


STATUSES = ("on_time", "late", "missing", "not_yet_due")


async def report(conn: asyncpg.Connection, *, dataset: str | None = None,
                 period: str | None = None, publisher: str | None = None,
                 kecamatan: str | None = None) -> dict:
    """Every dataset (or one), its latest due period and the next one (or ``period``), and
    each expected unit's status; filtered to one publisher's units or one kecamatan."""
    now = clock.now()
    if period is not None and dataset is None:
        raise Unprocessable("Sebutkan dataset bersama periode: ?dataset=<slug>&period=<periode>.",
                            code="dataset_required")
    chosen = ([await datasets.get_dataset(conn, dataset)] if dataset
              else await datasets.list_datasets(conn))
    if kecamatan is not None:
        region = await regions_service.get_region(conn, kecamatan)
        if region is None or region["level"] != "kecamatan":
            raise NotFound(f"Kecamatan '{kecamatan}' tidak ada.", code="region_not_found")
    publishers = await store.publishers_with_contacts(conn)
    if publisher is not None and all(p["id"] != publisher for p in publishers):
        raise NotFound(f"Publisher '{publisher}' tidak ada.", code="publisher_not_found")
    root = await regions_service.root_region(conn)
    names = {r["code"]: r["name"] for r in await regions_service.all_regions(conn)
             if r["level"] == "kecamatan"}
    items = []
    for d in chosen:
        periods, grace = await _periods(conn, d, period, now)
        for p in periods:
            items.append(await _period_report(conn, d, p, grace, now, publishers, root,
                                              publisher=publisher, kecamatan=kecamatan,
                                              names=names))
    return {"generated_at": now, "items": items, "summary": _count(
        [u for i in items for u in i["regions"]])}


def _count(units: list[dict]) -> dict:
    counts = {s: 0 for s in STATUSES}
    for u in units:
        counts[u["status"]] += 1
    return {"expected": len(units), **counts}


async def _period_report(conn, dataset: dict, period: str, grace: int, now: datetime,
                         publishers: list[dict], root: str, *, publisher: str | None,
                         kecamatan: str | None, names: dict) -> dict:
    frequency, slug = dataset["frequency"], dataset["slug"]
    due = calendar.due_at(frequency, period, grace)
    units = []
    for u in await store.units(conn, dataset_id=dataset["id"], period=period,
                               levels=region_levels(dataset), root=kecamatan or root):
        owner = responsible(publishers, slug, u["path"])
        if publisher is not None and (owner is None or owner["id"] != publisher):
            continue
        status, days = unit_status(u["submitted_at"], due, now)
        units.append({"code": u["code"], "name": u["name"], "level": u["level"],
                      "kecamatan": u["kecamatan"],
                      "kecamatan_name": names.get(u["kecamatan"], u["kecamatan"]),
                      "publisher_id": owner["id"] if owner else None,
                      "status": status, "submitted_at": u["submitted_at"], "days_late": days})
    per_kecamatan: dict[str, list] = {}
    for u in units:
        per_kecamatan.setdefault(u["kecamatan"], []).append(u)
    return {"dataset": slug, "title": dataset["title"], "frequency": frequency,
            "period": period, "grace_days": grace, "due_at": due, "is_due": now > due,
            **_count(units),
            "kecamatan": [{"code": k, "name": names.get(k, k), **_count(v),
                           "max_days_late": max((u["days_late"] for u in v), default=0)}
                          for k, v in sorted(per_kecamatan.items())],
            "regions": units}


async def overdue_for(conn: asyncpg.Connection, principal: Principal) -> dict:
    """What a publisher still owes past its due date (a walidata: everyone's)."""
    mine = None if principal.is_steward else principal.publisher_id
    full = await report(conn, publisher=mine)
    items = []
    for item in full["items"]:
        owed = [u for u in item["regions"] if u["status"] == "missing"]
        if owed:
            items.append({k: item[k] for k in ("dataset", "title", "period", "due_at")}
                         | {"regions": owed, "missing": len(owed),
                            "max_days_late": max(u["days_late"] for u in owed)})
    return {"publisher_id": principal.publisher_id, "generated_at": full["generated_at"],
            "items": items}


async def set_contact(conn: asyncpg.Connection, publisher_id: str, email: str) -> dict:
    if await access_service.get_publisher(conn, publisher_id) is None:
        raise NotFound(f"Publisher '{publisher_id}' tidak ada.", code="publisher_not_found")
    await store.set_contact(conn, publisher_id, email)
    return {"publisher_id": publisher_id, "email": email}


async def reminder_log(conn: asyncpg.Connection, principal: Principal, *,
                       cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
    """The walidata reads every reminder; a publisher reads its own. Newest first."""
    mine = None if principal.is_steward else principal.publisher_id
    after = decode_cursor(cursor, 2, [datetime.fromisoformat, uuid.UUID]) if cursor else None
    rows = await store.reminder_log(conn, publisher_id=mine, after=after, limit=limit + 1)
    return page(rows, limit, lambda r: (r["created_at"].isoformat(), str(r["id"])))

