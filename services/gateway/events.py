"""Live updates: the registry's change feed as server-sent events.

The feed (``GET {registry}/v1/changes?since=<seq>``) is the source of truth, so every public
change reaches a client exactly once and in order, and ``Last-Event-ID`` (the change ``seq``)
resumes where a client stopped. NATS only says *when* to look: a core subscription to
``registry.records.changed.v1`` (in the namespace) wakes the follower at once; while NATS is
quiet or down it looks every ``events_poll_interval`` seconds anyway.

One follower per gateway reads the feed and keeps the newest changes in memory; every stream
is served from that buffer, so 500 streams cost the registry what one does. Only a client that
resumes from further back than the buffer reads older pages itself, once. Streams are limited
per key and per client address (429 beyond).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import time
from typing import AsyncIterator

from nats.aio.client import Client as NATS

from shared import bus
from shared.contracts import RecordsChangedV1
from shared.errors import TooManyRequests

from services.gateway.registry_client import RegistryReads

log = logging.getLogger("satudata.gateway.events")
FEED_PAGE = 500


class ChangeHub:
    def __init__(self, registry: RegistryReads, poll_interval: float, *, per_key: int = 5,
                 per_address: int = 20, buffer_size: int = 10_000):
        self.registry = registry
        self.poll_interval = poll_interval
        self.per_key = per_key
        self.per_address = per_address
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()  # replaced (after being set) at every change
        self.nc: NATS | None = None
        self.buffer: collections.deque[tuple[int, dict]] = collections.deque(maxlen=buffer_size)
        self.head: int | None = None  # newest seq the follower has read
        self._follower: asyncio.Task | None = None
        self._streams: collections.Counter[str] = collections.Counter()

    async def notify(self) -> None:
        self._wake.set()

    async def listen_nats(self, url: str, namespace: str) -> None:
        """Run until cancelled: keep a subscription whose messages wake the follower."""
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

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(BaseException):
                await self._follower

    # --- the one follower -------------------------------------------------------------------

    async def find_head(self) -> int:
        """The newest change seq: the feed answers nothing after it (found in O(log n))."""
        async def empty_after(seq: int) -> bool:
            return not (await self.registry.changes(seq, 1)).get("items")

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
        page = await self.registry.changes(since, limit)
        return page.get("items", []), int(page.get("next", since))

    async def _follow(self) -> None:
        while True:
            try:
                if self.head is None:
                    self.head = await self.find_head()
                    self._announce()
                while True:
                    items, next_seq = await self.changes(self.head)
                    for item in items:
                        self.buffer.append((int(item.get("seq") or next_seq), item))
                    self.head = max(self.head, next_seq)
                    if items:
                        self._announce()
                    if len(items) < FEED_PAGE:
                        break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the registry away: streams just wait
                log.warning("change feed not readable: %s", type(exc).__name__)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    def _announce(self) -> None:
        """Wake every waiting stream (an event per generation: no lock to hold)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _ensure_follower(self) -> None:
        if self._follower is None or self._follower.done():
            self._follower = asyncio.create_task(self._follow(), name="gateway-change-follower")

    async def start_seq(self) -> int:
        """Where a new stream starts: the newest change the follower has read."""
        self._ensure_follower()
        while self.head is None:
            await self._changed.wait()
        return self.head

    # --- streams ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def admit(self, key_id: str | None, address: str):
        """A stream slot for this key and this address, or 429."""
        names = [f"addr:{address}"] + ([f"key:{key_id}"] if key_id else [])
        if self._streams[names[0]] >= self.per_address or (
                key_id and self._streams[names[1]] >= self.per_key):
            raise TooManyRequests(
                f"Terlalu banyak aliran peristiwa terbuka (paling banyak {self.per_key} per "
                f"kunci dan {self.per_address} per alamat).", code="too_many_streams",
                headers={"Retry-After": "10"})
        for name in names:
            self._streams[name] += 1
        try:
            yield
        finally:
            for name in names:
                self._streams[name] -= 1
                if not self._streams[name]:
                    del self._streams[name]

    async def _after(self, since: int) -> list[tuple[int, dict]]:
        """Changes after ``since``: from the buffer, or (resuming from further back) read from
        the feed by this stream alone until it reaches the buffer."""
        if self.buffer and since + 1 < self.buffer[0][0] or not self.buffer and since < (
                self.head or 0):
            items, next_seq = await self.changes(since)
            out = [(int(i.get("seq") or next_seq), i) for i in items]
            return out or ([(next_seq, None)] if next_seq > since else [])
        return [(seq, item) for seq, item in self.buffer if seq > since]

    async def stream(self, since: int | None, dataset: str | None, keepalive: float
                     ) -> AsyncIterator[str]:
        """The SSE body: ``id: <seq>``, ``event: record``, ``data: <RecordV1 JSON>``."""
        if since is None:
            since = await self.start_seq()
        else:
            self._ensure_follower()
        yield f"retry: 2000\n: mulai setelah {since}\n\n"
        last_sent = time.monotonic()
        while True:
            fresh = await self._after(since)
            for seq, item in fresh:
                if item is not None and (dataset is None or item.get("dataset") == dataset):
                    yield (f"id: {seq}\nevent: record\n"
                           f"data: {json.dumps(item, ensure_ascii=False)}\n\n")
                    last_sent = time.monotonic()
                since = max(since, seq)
            if fresh:
                continue
            if time.monotonic() - last_sent >= keepalive:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), keepalive)
