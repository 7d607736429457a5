"""Least privilege on NATS: each service's user publishes only what is its own."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.api import StreamConfig

from shared.infra import EmbeddedNats


@pytest.fixture
def permissioned_nats(tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()  # users and permissions as `make up`
    yield server
    server.stop()


async def _violations(url: str, subject: str) -> list[str]:
    errors: list[str] = []

    async def on_error(exc):
        errors.append(str(exc))

    nc = await nats.connect(url, error_cb=on_error, allow_reconnect=False)
    await nc.publish(subject, b"{}")
    await nc.flush()
    await asyncio.sleep(0.3)  # the server reports a violation asynchronously
    await nc.close()
    return errors


async def test_ingest_credentials_cannot_publish_on_registry_subjects(permissioned_nats):
    admin = await nats.connect(permissioned_nats.url)
    js = admin.jetstream()
    await js.add_stream(StreamConfig(name="REGISTRY", subjects=["registry.>"]))
    await js.add_stream(StreamConfig(name="INGEST", subjects=["ingest.>"]))

    ingest = permissioned_nats.url_for("ingest")
    refused = await _violations(ingest, "registry.records.changed.v1")
    assert refused and "permissions violation" in refused[0]
    refused_ns = await _violations(ingest, "t123.registry.records.changed.v1")
    assert refused_ns and "permissions violation" in refused_ns[0]
    assert await _violations(permissioned_nats.url_for("gateway"), "ingest.x.v1")
    assert await _violations(permissioned_nats.url_for("search"), "registry.x.v1")

    nc = await nats.connect(ingest)  # its own subject, through JetStream, is acknowledged
    ack = await nc.jetstream().publish("ingest.submissions.chunk.v1", b"{}")
    assert ack.stream == "INGEST"
    await nc.close()
    assert (await js.stream_info("REGISTRY")).state.messages == 0
    await admin.close()


async def test_a_wrong_password_is_refused(permissioned_nats):
    url = permissioned_nats.url_for("ingest").replace(
        permissioned_nats.passwords["ingest"], "tebakan")
    with pytest.raises(Exception):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                           connect_timeout=2)
