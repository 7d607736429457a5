"""Reminder scan: which publishers owe a period that is about to fall due or has passed.

Each reminder is written once (unique publisher, dataset, period, stage), in the same
transaction as its outbox event (``registry.reminders.due.v1``) and one delivery row per
configured channel; the delivery loop (``delivery.py``) sends them. A second scan, a second
replica or a restart finds the reminder already there and sends nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import quote

import asyncpg

from services.registry.datasets import service as datasets
from services.registry.regions import service as regions_service
from services.registry.timeliness import service, store
from shared import reporting_calendar as calendar
from services.registry.timeliness.settings import TimelinessSettings
from shared import clock, outbox
from shared.db import xact_lock
from shared.contracts import ReminderDueV1


def stage_for(due: datetime, now: datetime, days_before: list[int]) -> tuple[str, int] | None:
    """(stage, days) for a due date: the nearest configured point before it that has been
    reached, or ``overdue``; None while no reminder is due yet."""
    if now > due:
        return "overdue", (now - due).days + 1
    left = due - now
    reached = [d for d in days_before if left <= timedelta(days=d)]
    return (f"before_{min(reached)}d", left.days) if reached else None


async def scan_once(conn: asyncpg.Connection, settings: TimelinessSettings) -> int:
    """One scan at a time across replicas (the unique key would hold without it): the use case
    of ``POST /v1/reminders/run`` and of the background loop."""
    await xact_lock(conn, "satudata.reminders")
    return await scan(conn, settings)


async def scan(conn: asyncpg.Connection, settings: TimelinessSettings) -> int:
    """Write every reminder that is due now and not written before; returns how many."""
    now = clock.now()
    publishers = await store.publishers_with_contacts(conn)
    graces = await datasets.all_grace_days(conn)
    root = await regions_service.root_region(conn)
    created = 0
    for dataset in await datasets.list_datasets(conn):
        frequency = dataset["frequency"]
        grace = graces.get(dataset["id"], calendar.DEFAULT_GRACE_DAYS[frequency])
        for period in (calendar.latest_due(frequency, grace, now),
                       calendar.upcoming(frequency, grace, now)):
            due = calendar.due_at(frequency, period, grace)
            stage = stage_for(due, now, settings.days_before)
            if stage is None or root is None:
                continue
            owed = await _owed(conn, dataset, period, publishers, root)
            for publisher, regions in owed:
                created += await _remind(conn, settings, dataset, period, due, stage,
                                         publisher, regions)
    return created


async def _owed(conn, dataset: dict, period: str, publishers: list[dict], root: str
                ) -> list[tuple[dict, list[dict]]]:
    by_publisher: dict[str, tuple[dict, list[dict]]] = {}
    for u in await store.units(conn, dataset_id=dataset["id"], period=period,
                               levels=service.region_levels(dataset), root=root):
        owner = service.responsible(publishers, dataset["slug"], u["path"])
        if u["submitted_at"] is None and owner is not None:
            by_publisher.setdefault(owner["id"], (owner, []))[1].append(
                {"code": u["code"], "name": u["name"]})
    return list(by_publisher.values())


async def _remind(conn, settings: TimelinessSettings, dataset: dict, period: str,
                  due: datetime, stage: tuple[str, int], publisher: dict,
                  regions: list[dict]) -> int:
    slug, base = dataset["slug"], settings.public_base_url.rstrip("/")
    event = ReminderDueV1(
        reminder_id=uuid.uuid4(), publisher_id=publisher["id"],
        publisher_name=publisher["name"], dataset=slug, dataset_title=dataset["title"],
        period=period, stage=stage[0], due_at=due, days=stage[1], regions=regions,
        submit_url=f"{base}/kirim?dataset={quote(slug)}",
        template_url=f"{base}/v1/datasets/{quote(slug)}/template?format=xlsx")
    fresh = await store.insert_reminder(
        conn, id=event.reminder_id, publisher_id=publisher["id"], dataset_id=dataset["id"],
        period=period, stage=stage[0], due_at=due, payload=event.model_dump(mode="json"))
    if not fresh:
        return 0
    await outbox.add(conn, "registry", event, event_id=event.reminder_id)
    if settings.reminder_webhook_url:
        await store.insert_delivery(conn, event.reminder_id, "webhook",
                                    settings.reminder_webhook_url, clock.now())
    if settings.smtp_host and publisher.get("email"):
        await store.insert_delivery(conn, event.reminder_id, "email", publisher["email"],
                                    clock.now())
    return 1
