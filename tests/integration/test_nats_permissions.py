"""Least privilege on NATS, proved against a real server with the users `make up` makes: each
service's credentials publish only its own subjects, read only its own inbox, and reach only
its own durable consumers; none may read another's stream, delete or update a consumer or a
stream, or ack another's messages."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.api import ConsumerConfig

from shared import bus
from shared.infra import EmbeddedNats


@pytest.fixture
def permissioned_nats(tmp_path):
    server = EmbeddedNats(tmp_path / "nats").start()  # users and permissions as `make up`
    yield server
    server.stop()


async def _violations(url: str, subject: str, *, subscribe: bool = False) -> list[str]:
    errors: list[str] = []

    async def on_error(exc):
        errors.append(str(exc))

    nc = await nats.connect(url, error_cb=on_error, allow_reconnect=False)
    if subscribe:
        await nc.subscribe(subject)
    else:
        await nc.publish(subject, b"{}")
    await nc.flush()
    await asyncio.sleep(0.3)  # the server reports a violation asynchronously
    await nc.close()
    return errors


async def _streams(server) -> tuple:
    admin = await bus.connect(server.url, "test-admin")
    js = admin.jetstream()
    await bus.ensure_streams(js, bus.Namespace(""))
    return admin, js


async def test_ingest_credentials_cannot_publish_on_registry_subjects(permissioned_nats):
    admin, js = await _streams(permissioned_nats)
    ingest = permissioned_nats.url_for("ingest")
    refused = await _violations(ingest, "registry.records.changed.v1")
    assert refused and "permissions violation" in refused[0]
    assert await _violations(ingest, "t123.registry.records.changed.v1")
    assert await _violations(permissioned_nats.url_for("gateway"), "ingest.x.v1")
    assert await _violations(permissioned_nats.url_for("search"), "registry.x.v1")

    nc = await bus.connect(ingest, "ingest")  # its own subject, through JetStream, is acked
    ack = await nc.jetstream().publish("ingest.submissions.chunk.v1", b"{}")
    assert ack.stream == "INGEST"
    await nc.close()
    assert (await js.stream_info("REGISTRY")).state.messages == 0
    await admin.close()


@pytest.mark.parametrize("service", ["registry", "ingest", "search", "gateway"])
async def test_each_service_reads_only_its_own_inbox(permissioned_nats, service):
    url = permissioned_nats.url_for(service)
    assert await _violations(url, "_INBOX.>", subscribe=True)  # the default, everyone's
    for other in {"registry", "ingest", "search", "gateway"} - {service}:
        assert await _violations(url, f"_INBOX_{other}.>", subscribe=True), other
    assert not await _violations(url, f"_INBOX_{service}.abc", subscribe=True)


async def _api(nc, subject: str) -> bool:
    """True when the JetStream API answered this user (False: no permission, no answer)."""
    try:
        await nc.request(subject, b"{}", timeout=0.3)
        return True
    except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
        return False


@pytest.mark.parametrize("service", ["registry", "ingest", "search", "gateway"])
async def test_a_service_cannot_read_another_stream_delete_consumers_or_change_streams(
        permissioned_nats, service):
    admin, js = await _streams(permissioned_nats)
    await js.add_consumer("INGEST", ConsumerConfig(durable_name="registry-submissions"))
    await js.add_consumer("REGISTRY", ConsumerConfig(durable_name="search-indexer"))
    nc = await bus.connect(permissioned_nats.url_for(service), service)
    try:
        mine = {"registry": ("INGEST", "registry-submissions"),
                "search": ("REGISTRY", "search-indexer")}.get(service)
        for stream, consumer in (("INGEST", "registry-submissions"),
                                 ("REGISTRY", "search-indexer")):
            if (stream, consumer) == mine:
                assert await _api(nc, f"$JS.API.CONSUMER.INFO.{stream}.{consumer}")
                continue
            # another's consumer: no info, no next message, no delete
            assert not await _api(nc, f"$JS.API.CONSUMER.INFO.{stream}.{consumer}"), consumer
            assert not await _api(nc, f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}")
            assert not await _api(nc, f"$JS.API.CONSUMER.DELETE.{stream}.{consumer}")
        # a consumer of its own choosing on any stream (reading it) is refused
        for stream in ("INGEST", "REGISTRY", "DEADLETTER"):
            assert not await _api(nc, f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.spion")
            assert not await _api(nc, f"$JS.API.CONSUMER.CREATE.{stream}")
        for verb in ("UPDATE", "DELETE", "PURGE", "CREATE"):
            assert not await _api(nc, f"$JS.API.STREAM.{verb}.INGEST"), verb
        assert not await _api(nc, "$JS.API.STREAM.MSG.GET.INGEST")
    finally:
        await nc.close()
    # nothing was deleted behind the refusals
    assert (await js.consumer_info("INGEST", "registry-submissions")).name
    await admin.close()


async def test_a_service_cannot_ack_another_services_messages(permissioned_nats):
    admin, js = await _streams(permissioned_nats)
    await js.add_consumer("INGEST", ConsumerConfig(durable_name="registry-submissions",
                                                   ack_wait=30))
    await js.publish("ingest.submissions.chunk.v1", b"{}")
    registry = await bus.connect(permissioned_nats.url_for("registry"), "registry")
    sub = await registry.jetstream().pull_subscribe_bind("registry-submissions", stream="INGEST")
    [msg] = await sub.fetch(1, timeout=5)
    refused = await _violations(permissioned_nats.url_for("search"), msg.reply)
    assert refused and "permissions violation" in refused[0]
    info = await js.consumer_info("INGEST", "registry-submissions")
    assert info.num_ack_pending == 1  # still in hand: search's ack did not count
    await msg.ack()
    await registry.close()
    await admin.close()


async def test_a_wrong_password_is_refused(permissioned_nats):
    url = permissioned_nats.url_for("ingest").replace(
        permissioned_nats.passwords["ingest"], "tebakan")
    with pytest.raises(Exception):
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0,
                           connect_timeout=2)


async def test_a_namespace_gets_users_of_its_own(permissioned_nats):
    urls = permissioned_nats.service_urls("t42")
    assert "registry~t42" in urls["registry"]
    assert await _violations(urls["ingest"], "ingest.submissions.chunk.v1")  # not its namespace
    assert not await _violations(urls["ingest"], "t42.ingest.submissions.chunk.v1")
