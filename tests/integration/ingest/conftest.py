"""Ingest under test: a real uvicorn server over a fresh database, real NATS, and the real
registry (its own namespace, so it answers HTTP but does not consume ingest's chunks unless a
test asks for the whole path)."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from services.registry.app import create_app as create_registry
from services.registry.bootstrap.seed import seed
from services.registry.settings import RegistrySettings
from shared.auth import PRINCIPAL_HEADER, Principal
from shared.db import create_pool
from tests.conftest import migrate
from tests.helpers import eventually, served, signed

DESA = "64.08.04.2001"
DESA_PUBLISHER = f"desa-{DESA}"


def principal(publisher_id: str = DESA_PUBLISHER, role: str = "publisher",
              datasets: list[str] | None = None, scope: str = DESA) -> Principal:
    return Principal(key_id=f"key-{publisher_id}", publisher_id=publisher_id,
                     publisher_name=publisher_id, role=role, region_scope=scope,
                     datasets=["jumlah-penduduk"] if datasets is None else datasets)


def auth(p: Principal | None = None) -> dict[str, str]:
    return {PRINCIPAL_HEADER: (p or principal()).encode()}


def rows(n: int, start: int = 0) -> list[dict]:
    """Sample (contoh) rows."""
    return [{"region": DESA, "period": str(2000 + (i // 2) % 25), "jenis_kelamin": "LP"[i % 2],
             "jumlah": 1000 + i} for i in range(start, start + n)]


FINAL = ("completed", "partial", "failed")


def post_rows(client, data: list[dict], who: Principal | None = None):
    """One JSON submission of ``data`` to the demo dataset, as ``who``."""
    return client.post("/v1/submissions", json={"dataset": "jumlah-penduduk", "rows": data},
                       headers=auth(who))


async def final_status(client, url: str, who: Principal | None = None,
                       timeout: float = 120) -> dict:
    """The submission status at ``url`` once it is final (completed, partial or failed)."""
    async def check():
        got = (await client.get(url, headers=auth(who))).json()
        return got if got["status"] in FINAL else None
    return await eventually(check, timeout=timeout)


def _with_db(url: str, name: str) -> str:
    return f"{url.rpartition('/')[0]}/{name}"


@pytest.fixture(scope="session")
async def ingest_template(pg_server_url):
    """Registry and ingest migrated and the registry seeded once; each test copies it."""
    name = f"tmpl_ingest_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_with_db(pg_server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(pg_server_url, name)
    await migrate("registry", url)
    await migrate("ingest", url)
    pool = await create_pool(url, "registry")
    await seed(pool, sample_values=False)
    await pool.close()
    yield name
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def database_url(pg_server_url, ingest_template):
    """A fresh database per test, copied from the migrated and seeded template."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_with_db(pg_server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{ingest_template}"')
    yield _with_db(pg_server_url, name)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
async def ingest_db(database_url):
    pool = await create_pool(database_url, "ingest")
    yield pool
    await pool.close()


@pytest.fixture
def registry_namespace(nats_namespace):
    """Its own namespace by default: the registry answers HTTP but never sees ingest's chunks.
    A module that wants the whole path overrides this with ``nats_namespace``."""
    return nats_namespace + "reg"


@pytest.fixture
async def registry_url(ingest_db, database_url, nats_url, registry_namespace):
    settings = RegistrySettings(database_url=database_url, nats_url=nats_url,
                                nats_namespace=registry_namespace)
    async with served(create_registry(settings)) as url:
        yield url


@pytest.fixture
def ingest_settings(database_url, nats_url, nats_namespace, registry_url):
    return IngestSettings(database_url=database_url, nats_url=nats_url,
                          nats_namespace=nats_namespace, registry_url=registry_url,
                          chunk_rows=2)


@pytest.fixture
def start_ingest():
    """``async with start_ingest(settings) as client:`` an httpx client on a served ingest."""

    class _Start:
        def __init__(self, settings: IngestSettings):
            self.served = served(create_app(settings))

        async def __aenter__(self) -> httpx.AsyncClient:
            url = await self.served.__aenter__()
            self.client = httpx.AsyncClient(base_url=url, timeout=60, auth=signed())
            return self.client

        async def __aexit__(self, *exc):
            await self.client.aclose()
            await self.served.__aexit__(*exc)

    return _Start


@pytest.fixture
async def client(ingest_settings, start_ingest):
    async with start_ingest(ingest_settings) as c:
        yield c
