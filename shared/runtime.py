"""What every service's lifespan opens: the pool, the NATS connection and background tasks.

NATS may be down when a service starts (or later): the service still starts and serves what
needs only PostgreSQL (ingest keeps accepting submissions into its outbox), connects in the
background, and starts its relay and consumers once JetStream answers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

import asyncpg
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from shared import bus, outbox
from shared.db import create_pool
from shared.settings import ServiceSettings

log = logging.getLogger("satudata.runtime")

JsTask = Callable[["Runtime"], Awaitable[None]]


class Runtime:
    def __init__(self, settings: ServiceSettings, schema: str, service: str):
        self.settings = settings
        self.schema = schema
        self.service = service
        self.ns = bus.Namespace(settings.nats_namespace)
        self.pool: asyncpg.Pool | None = None
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.js_ready = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self, *, relay: bool = True, session_state: bool = True) -> "Runtime":
        self.pool = await create_pool(self.settings.database_url, self.schema,
                                      min_size=self.settings.db_pool_min,
                                      max_size=self.settings.db_pool_max,
                                      session_state=session_state)
        self._tasks.append(asyncio.create_task(self._connect(), name=f"{self.service}-nats"))
        if relay:
            self.after_nats(lambda rt: outbox.relay(rt.pool, rt.js, rt.ns, rt.schema))
        return self

    async def _connect(self) -> None:
        while True:
            try:
                self.nc = await bus.connect(self.settings.nats_url, self.service)
                self.js = self.nc.jetstream()
                if self.settings.nats_manage_streams:
                    await bus.ensure_streams(self.js, self.ns)
                self.js_ready.set()
                return
            except Exception as exc:  # noqa: BLE001 - retried until NATS answers
                log.warning("NATS not reachable yet (%s); retrying", exc)
                if self.nc is not None:
                    await self.nc.close()
                    self.nc = None
                await asyncio.sleep(1.0)

    def after_nats(self, task: JsTask) -> None:
        """Run ``task(runtime)`` in the background once JetStream is reachable."""

        async def runner():
            await self.js_ready.wait()
            while True:
                try:
                    await task(self)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - a background loop must not die silently
                    log.exception("background task failed; restarting in 1s")
                    await asyncio.sleep(1.0)

        self._tasks.append(asyncio.create_task(runner()))

    def spawn(self, coro: Awaitable[None]) -> None:
        self._tasks.append(asyncio.ensure_future(coro))

    @property
    def nats_connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        # bounded: a loop that lost its cancellation (3.11's wait_for can swallow one) must not
        # hang the process's exit
        _, stuck = await asyncio.wait(self._tasks, timeout=10) if self._tasks else ((), ())
        if stuck:
            log.warning("%d background tasks did not stop within 10 s", len(stuck))
        if self.nc is not None:
            await self.nc.close()
        if self.pool is not None:
            try:  # graceful first; a connection stuck in a long statement must not hang exit
                await asyncio.wait_for(self.pool.close(), 5)
            except asyncio.TimeoutError:
                self.pool.terminate()


async def every(seconds: float, work: Callable[[], Awaitable[object]], name: str) -> None:
    """Run ``work`` every ``seconds`` for as long as the process lives (``Runtime.spawn`` it):
    a failure is logged and the next round retries, so a loop never dies."""
    log = logging.getLogger(f"satudata.loop.{name.replace(' ', '_')}")
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a loop must not die; the next round retries
            log.exception("%s failed; retrying", name)
        await asyncio.sleep(seconds)
