"""The timeliness background loops each registry process runs: the reminder scan and the
delivery of pending reminders. Replicas may all run them: reminders are unique in the
database and deliveries are claimed with SKIP LOCKED."""

from __future__ import annotations


from services.registry.timeliness import delivery, reminders
from services.registry.timeliness.settings import TimelinessSettings
from shared import clock
from shared.runtime import Runtime, every



async def run_scan(pool, settings: TimelinessSettings) -> int:
    async with pool.acquire() as conn, conn.transaction():
        return await reminders.scan_once(conn, settings)


def start(runtime: Runtime, settings: TimelinessSettings) -> None:
    """Called from the registry's lifespan."""
    clock.check()
    if settings.reminder_interval > 0:
        runtime.spawn(every(settings.reminder_interval,
                             lambda: run_scan(runtime.pool, settings), "reminder scan"))
    runtime.spawn(every(settings.delivery_interval,
                         lambda: delivery.deliver_pending(runtime.pool, settings),
                         "reminder delivery"))
