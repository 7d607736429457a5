"""NATS credentials rotated without downtime (docs/runbooks/rotation.md): a second user per
service beside the first, both valid while the service rolls over, the first removed last."""

from __future__ import annotations

import asyncio
import secrets

import nats
import pytest

from shared.infra import EmbeddedNats
from shared.nats_permissions import inbox_prefix
from tests.helpers import eventually
from tests.integration.test_nats_permissions import _violations


@pytest.fixture
def own_nats(tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()  # users and permissions as `make up`
    yield server
    server.stop()


async def _receives(nc, subject: str) -> bool:
    reply = await nc.request(subject, b"ping", timeout=2)
    return reply.data == b"pong"


async def test_a_service_user_rotates_with_both_passwords_valid_during_the_change(own_nats):
    old = own_nats.url_for("registry")
    closed: list[str] = []

    async def on_disconnect():
        closed.append("registry")

    running = await nats.connect(old, disconnected_cb=on_disconnect, max_reconnect_attempts=3,
                                 reconnect_time_wait=0.2, inbox_prefix=inbox_prefix("registry"))
    admin = await nats.connect(own_nats.url)
    async def pong(msg):
        await msg.respond(b"pong")

    await admin.subscribe("registry.ping", cb=pong)
    await admin.flush()
    try:
        # 1. the second user, with a new password, beside the first: reload, not restart
        new_password = secrets.token_hex(16)
        await asyncio.to_thread(own_nats.reload, {**own_nats.passwords,
                                                  "registry-2": new_password})
        new = own_nats.url_for("registry-2")

        async def second_user_accepted():
            try:
                await (await nats.connect(new, allow_reconnect=False)).close()
                return True
            except Exception:  # noqa: BLE001 - not reloaded yet
                return False
        await eventually(second_user_accepted, timeout=10, interval=0.2)
        rolled = await nats.connect(new, inbox_prefix=inbox_prefix("registry-2"))
        assert await _receives(running, "registry.ping")  # the old user's connection lives on
        assert await _receives(rolled, "registry.ping")
        # the second user has the service's permissions, not more
        assert await _violations(new, "registry.records.changed.v1") == []
        assert any("permissions violation" in e.lower()
                   for e in await _violations(new, "ingest.submission.chunk.v1"))
        assert not closed

        # 3. once every process runs on the new user, the old one is removed
        await asyncio.to_thread(own_nats.reload, {u: p for u, p in own_nats.passwords.items()
                                                  if u != "registry"})

        async def old_user_gone():
            return bool(closed) and not running.is_connected
        await eventually(old_user_gone, timeout=10, interval=0.2)
        assert await _receives(rolled, "registry.ping")
        with pytest.raises(Exception):  # noqa: B017 - any refusal: the old password is dead
            await nats.connect(old, allow_reconnect=False, max_reconnect_attempts=0)
        await rolled.close()
    finally:
        await running.close()
        await admin.close()
