"""Three nats-server processes as one JetStream cluster, streams at R=3, and the stream
leader killed with -9 in the middle of 10,000 rows: nothing lost, nothing applied twice,
every submission final (the flow and its counts are test_failures' own)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import nats
import pytest

from shared.infra import free_port, nats_server_binary, wait_for_port
from tests.e2e.harness import start_platform, stop_platform
from tests.e2e.test_failures import _flow

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class NatsCluster:
    """Three nats-server child processes routed to each other, each its own store."""

    def __init__(self, root: Path):
        self.root = root
        self.ports = [free_port() for _ in range(3)]
        self.routes = [free_port() for _ in range(3)]
        self.procs: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.ports)

    def start(self) -> "NatsCluster":
        all_routes = ",".join(f"nats://127.0.0.1:{r}" for r in self.routes)
        for i, (port, route) in enumerate(zip(self.ports, self.routes)):
            name = f"n{i + 1}"
            store = self.root / name
            store.mkdir(parents=True, exist_ok=True)
            log = open(store / "server.log", "ab")
            self.procs[name] = subprocess.Popen(
                [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js",
                 "-sd", str(store), "--server_name", name, "--cluster_name", "satudata",
                 "--cluster", f"nats://127.0.0.1:{route}", "--routes", all_routes],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for port in self.ports:
            wait_for_port("127.0.0.1", port)
        return self

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


async def _stream_info(url: str, stream: str):
    nc = await nats.connect(url.split(","), connect_timeout=2)
    try:
        return await nc.jetstream().stream_info(stream)
    finally:
        await nc.close()


async def _cluster_ready(url: str) -> None:
    """JetStream answers once the three servers have elected a meta leader."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        nc = await nats.connect(url.split(","), connect_timeout=2)
        try:
            info = await nc.jetstream().account_info()
            if info is not None:
                return
        except Exception:  # noqa: BLE001 - not elected yet
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)
        finally:
            await nc.close()


@pytest.fixture
async def cluster(tmp_path):
    running = NatsCluster(tmp_path / "nats").start()
    await _cluster_ready(running.url)
    yield running
    running.stop()


async def test_stream_leader_killed_mid_flow_loses_nothing_with_three_replicas(
        pg_server_url, cluster):
    p = await start_platform(pg_server_url, cluster.url,
                             extra_env={"NATS_STREAM_REPLICAS": "3",
                                        "REGISTRY_CONSUMER_ACK_WAIT": "3"})
    try:
        stream = f"{p.namespace.upper()}_INGEST"
        info = await _stream_info(cluster.url, stream)
        assert info.config.num_replicas == 3
        assert len(info.cluster.replicas or []) == 2  # a leader and two followers
        killed = {}

        async def disrupt():
            leader = (await _stream_info(cluster.url, stream)).cluster.leader
            cluster.kill(leader)
            killed["leader"] = leader

        await _flow(p, disrupt)
        after = await _stream_info(cluster.url, stream)
        assert after.cluster.leader != killed["leader"]  # a follower took over
    finally:
        await stop_platform(p)
