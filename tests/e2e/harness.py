"""The platform as real processes for end-to-end tests.

``platform_factory`` builds a fresh database (migrated and seeded exactly as ``satudata up``
does), a NATS namespace of its own, and the four services as uvicorn child processes on free
ports. Tests talk to the gateway over real HTTP and may kill -9 any process.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from satudata import platform as sd


@dataclass
class RunningPlatform:
    database_url: str
    nats_url: str
    namespace: str
    ports: dict[str, int]
    keys: dict[str, str]
    procs: sd.Processes
    log_dir: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def auth(self, who: str = "DESA") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[f'SATUDATA_KEY_{who}']}"}

    def client(self, **kwargs) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway, timeout=30, **kwargs)

    def restart(self, name: str) -> None:
        self.procs.start(name)
        self.procs.wait_ready(names=(name,))

    def logs(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


async def _create_database(server_url: str) -> str:
    name = f"e2e_{uuid.uuid4().hex[:10]}"
    base = server_url.rpartition("/")[0]
    conn = await asyncpg.connect(f"{base}/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return f"{base}/{name}"


async def _drop_database(url: str) -> None:
    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(f"{base}/postgres")
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


async def start_platform(pg_server_url: str, nats_url: str, *, sample_values: bool = False,
                         extra_env: dict[str, str] | None = None,
                         database_url: str | None = None,
                         nats_urls: dict[str, str] | None = None,
                         keys: dict[str, str] | None = None) -> RunningPlatform:
    """``database_url``: run on this existing database (e.g. a restored backup), seeded only
    if it is empty, as ``satudata up`` does; ``keys``: the raw keys it already knows."""
    existing = database_url is not None
    database_url = database_url or await _create_database(pg_server_url)
    log_dir = Path(tempfile.mkdtemp(prefix="satudata-e2e-logs-"))
    await asyncio.to_thread(sd.migrate_all, database_url)
    summary = await asyncio.to_thread(sd.seed_all, database_url, log_dir / "dev-keys.env",
                                      sample_values, only_if_empty=existing)
    summary = summary or {"keys": keys or {}}
    namespace = f"e2e{uuid.uuid4().hex[:8]}"
    if hasattr(nats_urls, "for_namespace"):  # the services' own users, for this namespace
        nats_urls = nats_urls.for_namespace(namespace)
    infra = sd.Infra(database_url, nats_url, nats_urls=nats_urls or {},
                     database_urls=await asyncio.to_thread(sd.grant_service_roles, database_url))
    ports = sd.pick_ports(default=False)
    from satudata import receipt  # a receipt key of its own, as `make up` makes one

    env = sd.service_env(infra, ports, namespace, {**receipt.ensure_key(log_dir),
                                                   **(extra_env or {})})
    procs = sd.Processes(env, ports, prefix_output=False, log_dir=log_dir)
    procs.start_all()
    await asyncio.to_thread(procs.wait_ready, 90.0)
    return RunningPlatform(database_url, nats_url, namespace, ports, summary["keys"], procs,
                           log_dir)


async def stop_platform(running: RunningPlatform) -> None:
    """Stops the services, drops the database and removes the log directory: it holds the
    run's raw dev keys and receipt key beside the logs (SATUDATA_E2E_KEEP_LOGS=1 keeps it)."""
    await asyncio.to_thread(running.procs.stop)
    await _drop_database(running.database_url)
    remove_logs(running)


def remove_logs(running: RunningPlatform) -> None:
    """The log directory (logs, raw dev keys, receipt key), unless SATUDATA_E2E_KEEP_LOGS=1:
    for a test that stops its platform itself (its database server gone with it)."""
    if not os.environ.get("SATUDATA_E2E_KEEP_LOGS"):
        shutil.rmtree(running.log_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def running_platform(pg_server_url, nats_url, nats_service_urls):
    running = await start_platform(pg_server_url, nats_url, nats_urls=nats_service_urls)
    yield running
    await stop_platform(running)
