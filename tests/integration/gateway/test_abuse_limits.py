"""Abuse limits: made-up keys, many live streams, one follower for all of them."""

from __future__ import annotations

import asyncio
import logging
import shutil
import subprocess
import tempfile

import httpx
import pytest

from services.gateway.app import create_app
from tests.helpers import eventually
from tests.integration.gateway.conftest import free_port, gateway_settings, serve


async def _made_up_keys(url: str, count: int, start: int = 0) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        answers = [await client.get("/v1/datasets",
                                    headers={"Authorization": f"Bearer ngarang-{i:06d}"})
                   for i in range(start, start + count)]
    return [a.status_code for a in answers]


async def test_four_hundred_made_up_keys_from_one_address_meet_429(standin, nats_url,
                                                                   nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace)
    async with serve(create_app(settings)) as url:
        codes = await _made_up_keys(url, 400)
        async with httpx.AsyncClient(base_url=url) as client:
            valid_key_too = await client.get("/v1/datasets",
                                             headers={"Authorization": "Bearer publisher-key-1"})
            anonymous = await client.get("/v1/datasets")
    assert codes[:100] == [401] * 100
    assert set(codes[100:]) == {429}
    # the registry was asked about 100 keys, not 400
    assert standin.calls["resolve"] == 100
    assert valid_key_too.status_code == 429
    assert valid_key_too.json()["error"]["code"] == "too_many_auth_failures"
    assert anonymous.status_code == 200  # reads without a key still work


@pytest.mark.skipif(shutil.which("redis-server") is None,
                    reason="no redis-server binary on this machine to start one of our own")
async def test_failed_authentications_are_counted_across_gateway_replicas_in_redis(
        standin, nats_url, nats_namespace):
    port = free_port()
    folder = tempfile.mkdtemp(prefix="satudata-redis-")
    redis = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", folder],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        settings = gateway_settings(standin.url, nats_url, nats_namespace,
                                    redis_url=f"redis://127.0.0.1:{port}",
                                    rate_limit_auth_failures="20/minute")

        async def redis_up():
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            return True

        await eventually(redis_up, timeout=10)
        async with serve(create_app(settings)) as a, serve(create_app(settings)) as b:
            first = await _made_up_keys(a, 10)
            second = await _made_up_keys(b, 10, start=10)
            third = await _made_up_keys(b, 5, start=20)
        assert first == [401] * 10 and second == [401] * 10
        assert third == [429] * 5
    finally:
        redis.terminate()
        redis.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


async def test_many_event_streams_cost_the_registry_one_follower(standin, nats_url,
                                                                 nats_namespace, caplog):
    standin.changes = [{"seq": i, "dataset": "d", "value": i} for i in range(1, 4)]
    settings = gateway_settings(standin.url, nats_url, nats_namespace,
                                events_poll_interval=0.2, events_per_address=1000,
                                events_per_key=1000)
    streams, received = 200, []

    async def listen(client: httpx.AsyncClient, ready: asyncio.Event):
        async with client.stream("GET", "/v1/events") as r:  # from now on
            assert r.status_code == 200
            ready.set()
            async for line in r.aiter_lines():
                if line.startswith("id: 4"):
                    received.append(1)
                    return

    app = create_app(settings)  # configures logging: caplog's handler is added after it
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="satudata.gateway.events")
    async with serve(app) as url:
        limits = httpx.Limits(max_connections=streams + 10)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
            readies = [asyncio.Event() for _ in range(streams)]
            tasks = [asyncio.create_task(listen(client, e)) for e in readies]
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in readies)), 60)
            before = standin.calls.get("GET /v1/changes", 0)
            await asyncio.sleep(2.0)  # ten poll intervals
            during = standin.calls.get("GET /v1/changes", 0) - before
            standin.changes.append({"seq": 4, "dataset": "d", "value": 4})
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert len(received) == streams
    # one follower polling every 0.2 s: about ten reads in two seconds, whatever the streams
    assert during <= 15, during
    closed = [r for r in caplog.records if "event stream closed" in r.getMessage()]
    logging.getLogger().removeHandler(caplog.handler)
    assert len(closed) == streams and all(r.exc_info is None for r in closed)
    assert not [r for r in caplog.records if r.exc_info]  # no traceback for a disconnect


async def test_event_streams_are_limited_per_key_and_per_address(standin, nats_url,
                                                                 nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace, events_per_key=2,
                                events_per_address=3)
    async with serve(create_app(settings)) as url, \
            httpx.AsyncClient(base_url=url, timeout=10) as client:
        key = {"Authorization": "Bearer publisher-key-1"}
        opened = []

        async def open_stream(headers):
            ctx = client.stream("GET", "/v1/events", headers=headers)
            r = await ctx.__aenter__()
            opened.append(ctx)
            return r.status_code

        codes = [await open_stream(key) for _ in range(3)]
        codes += [await open_stream({}) for _ in range(2)]
        for ctx in opened:
            await ctx.__aexit__(None, None, None)
        again = await open_stream(key)
        await opened[-1].__aexit__(None, None, None)
    assert codes == [200, 200, 429, 200, 429]
    assert again == 200


async def test_made_up_keys_sent_at_once_are_limited_before_lookup_and_a_known_key_still_works(
        standin, nats_url, nats_namespace):
    settings = gateway_settings(standin.url, nats_url, nats_namespace)
    async with serve(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60,
                                     limits=httpx.Limits(max_connections=400)) as client:
            good = {"Authorization": "Bearer publisher-key-1"}
            assert (await client.get("/v1/datasets", headers=good)).status_code == 200
            answers = await asyncio.gather(*(
                client.get("/v1/datasets", headers={"Authorization": f"Bearer kilat-{i:04d}"})
                for i in range(400)))
            # the village's own key, used before, is not locked out by a bad client behind
            # the same address
            still = await client.get("/v1/datasets", headers=good)
    codes = [a.status_code for a in answers]
    assert codes.count(401) == 99 and codes.count(429) == 301, sorted(set(codes))
    # 99 made-up keys looked up; the good key once, twice if its cache entry expired meanwhile
    assert standin.calls["resolve"] - 99 in (1, 2), standin.calls
    assert still.status_code == 200
