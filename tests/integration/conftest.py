"""Fixtures shared by the integration suites: the registry's and search's databases and
settings, the running stack (registry, search and gateway, each served by uvicorn over the
test's PostgreSQL and NATS) that the cross-channel tests drive, and `satudata reindex` into a
scratch database to compare a rebuilt search index with the live one."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import pytest

from satudata.reindex import reindex
from services.gateway.app import create_app as create_gateway
from services.registry.bootstrap import seed as registry_seed
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.search import store as search_store
from services.search.app import create_app as create_search
from services.search.settings import SearchSettings
from shared.db import create_pool
from tests.conftest import migrate
from tests.integration.gateway.conftest import gateway_settings, serve


@contextlib.asynccontextmanager
async def _migrated(service: str, database_url: str):
    """A pool on ``service``'s schema, migrated to the newest revision."""
    await migrate(service, database_url)
    pool = await create_pool(database_url, service)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def registry_db(database_url):
    """The registry's schema, migrated and seeded (regions, publishers, the demo dataset and
    development keys; no sample values): ``(pool, seed summary)``."""
    async with _migrated("registry", database_url) as pool:
        yield pool, await registry_seed.seed(pool, sample_values=False)


@pytest.fixture
async def search_db(database_url):
    async with _migrated("search", database_url) as pool:
        yield pool


@pytest.fixture
def registry_settings(database_url, nats_url, nats_namespace):
    return RegistrySettings(database_url=database_url, nats_url=nats_url,
                            nats_namespace=nats_namespace)


@pytest.fixture
def search_settings(registry_settings):
    """The same database and NATS namespace as the registry's."""
    return SearchSettings(database_url=registry_settings.database_url,
                          nats_url=registry_settings.nats_url,
                          nats_namespace=registry_settings.nats_namespace)


@pytest.fixture
def stack_options() -> dict:
    """What ``stack`` starts. A test module that wants the registry's sample values, or no
    search service (the gateway then sends search calls to the registry, as
    ``gateway_settings`` does), overrides this fixture."""
    return {"sample_values": False, "search": True}


@pytest.fixture
async def stack(stack_options, registry_db, registry_settings, search_db, search_settings,
                nats_url, nats_namespace):
    """The seeded registry, search and the gateway in front of both, each served by uvicorn.

    Yields ``url`` (the gateway), ``registry_url``, ``search_url``, ``pool`` (the registry's
    schema), ``summary`` (the seed's, with ``keys`` and ``sample_records``) and the
    ``walidata``, ``desa`` and ``opd`` headers."""
    options = {"sample_values": False, "search": True, **stack_options}
    pool, summary = registry_db
    if options["sample_values"]:
        async with pool.acquire() as conn, conn.transaction():
            summary = {**summary, "sample_records": await registry_seed.seed_sample_values(conn)}
    async with contextlib.AsyncExitStack() as running:
        registry_url = await running.enter_async_context(
            serve(create_registry(registry_settings)))
        search_url = registry_url
        if options["search"]:
            search_url = await running.enter_async_context(
                serve(create_search(search_settings)))
        settings = gateway_settings(registry_url, nats_url, nats_namespace,
                                    upstream_timeout=10.0, key_cache_ttl=0.5)
        settings.search_url = search_url
        url = await running.enter_async_context(serve(create_gateway(settings)))
        keys = summary["keys"]
        yield {"url": url, "registry_url": registry_url, "search_url": search_url,
               "pool": pool, "summary": summary,
               **{who: {"Authorization": f"Bearer {keys[f'SATUDATA_KEY_{who.upper()}']}"}
                  for who in ("walidata", "desa", "opd")}}


class IndexRebuild:
    """`satudata reindex` from the registry's snapshot endpoint into a scratch database."""

    def __init__(self, pg_server_url: str, live: asyncpg.Pool):
        self.base = pg_server_url.rpartition("/")[0]
        self.live = live

    async def documents(self, registry_url: str) -> list[dict]:
        """The documents a rebuild gives (``store.documents_fingerprint``)."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = await asyncpg.connect(f"{self.base}/postgres")
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            await asyncio.to_thread(reindex, registry_url=registry_url,
                                    database_url=f"{self.base}/{name}", page=100)
            pool = await create_pool(f"{self.base}/{name}", "search")
            try:
                async with pool.acquire() as conn:
                    return await search_store.documents_fingerprint(conn)
            finally:
                await pool.close()
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()

    async def live_equals(self, rebuilt: list[dict]) -> bool:
        """For ``eventually``: the live index holds the same documents (naming the first
        differences when it does not)."""
        async with self.live.acquire() as conn:
            live = await search_store.documents_fingerprint(conn)
        assert len(rebuilt) == len(live)
        diff = [(a["doc_id"], k) for a, b in zip(live, rebuilt) for k in a if a[k] != b[k]]
        assert not diff, diff[:10]
        return True


@pytest.fixture
def index_rebuild(pg_server_url, search_db) -> IndexRebuild:
    return IndexRebuild(pg_server_url, search_db)
