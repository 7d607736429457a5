"""Live updates: the registry's change feed as server-sent events.

The feed (``GET {registry}/v1/changes?since=<seq>``) is the source of truth, so every public
change reaches a client exactly once and in order, and ``Last-Event-ID`` (the change ``seq``)
resumes where a client stopped. NATS only says *when* to look: a core subscription to
``registry.records.changed.v1`` (in the namespace) wakes the waiting clients at once; while
NATS is quiet or down they look every ``events_poll_interval`` seconds anyway.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import AsyncIterator

from nats.aio.client import Client as NATS

from shared import bus
from shared.contracts import RecordsChangedV1

from services.gateway.upstream import Upstreams

log = logging.getLogger("satudata.gateway.events")
FEED_PAGE = 500


class ChangeHub:
    def __init__(self, upstreams: Upstreams, poll_interval: float):
        self.upstreams = upstreams
        self.poll_interval = poll_interval
        self._changed = asyncio.Condition()
        self.nc: NATS | None = None

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, timeout: float) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                pass

    async def listen_nats(self, url: str, namespace: str) -> None:
        """Run until cancelled: keep a subscription whose messages wake the clients."""
        ns = bus.Namespace(namespace)
        while self.nc is None:
            try:
                self.nc = await bus.connect(url, "gateway")
            except Exception as exc:  # noqa: BLE001 - polling covers the gap
                log.warning("NATS not reachable yet (%s); polling the feed meanwhile", exc)
                await asyncio.sleep(2.0)

        async def on_message(_msg) -> None:
            await self.notify()

        await self.nc.subscribe(ns.subject(RecordsChangedV1.subject), cb=on_message)
        try:
            await asyncio.Event().wait()
        finally:
            await self.nc.close()

    async def head(self) -> int:
        """The newest change seq: the feed answers nothing after it (found in O(log n))."""
        async def empty_after(seq: int) -> bool:
            _, page = await self.upstreams.get_json(
                "registry", "/v1/changes", params={"since": seq, "limit": 1})
            return not page.get("items")

        if await empty_after(0):
            return 0
        low, high = 0, 1
        while not await empty_after(high):
            low, high = high, high * 2
        while high - low > 1:  # invariant: changes after low, none after high
            mid = (low + high) // 2
            if await empty_after(mid):
                high = mid
            else:
                low = mid
        return high

    async def changes(self, since: int, limit: int = FEED_PAGE) -> tuple[list[dict], int]:
        _, page = await self.upstreams.get_json(
            "registry", "/v1/changes", params={"since": since, "limit": limit})
        return page.get("items", []), int(page.get("next", since))

    async def stream(self, since: int | None, dataset: str | None, keepalive: float
                     ) -> AsyncIterator[str]:
        """The SSE body: ``id: <seq>``, ``event: record``, ``data: <RecordV1 JSON>``."""
        if since is None:
            since = await self.head()
        yield f"retry: 2000\n: mulai setelah {since}\n\n"
        idle = 0.0
        while True:
            items, next_seq = await self.changes(since)
            for item in items:
                seq = item.get("seq") or next_seq
                if dataset is None or item.get("dataset") == dataset:
                    yield (f"id: {seq}\nevent: record\n"
                           f"data: {json.dumps(item, ensure_ascii=False)}\n\n")
                since = max(since, int(seq))
            since = max(since, next_seq)
            if len(items) >= FEED_PAGE:
                continue
            if idle >= keepalive:
                yield ": keep-alive\n\n"
                idle = 0.0
            wait = min(self.poll_interval, keepalive)
            await self.wait(wait)
            idle += wait
