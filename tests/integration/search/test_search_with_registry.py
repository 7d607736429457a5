"""Search fed by the real registry: its outbox events index live, and `satudata reindex` from
its real snapshot endpoint gives the same documents."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from satudata.reindex import reindex
from services.registry import seed as registry_seed
from services.registry.app import create_app as create_registry
from services.registry.settings import RegistrySettings
from services.search import store
from services.search.app import create_app
from shared.db import create_pool
from tests.conftest import migrate
from tests.helpers import eventually, served, signed
from tests.integration.search.conftest import query


async def test_reindex_from_the_real_registry_equals_the_live_index(
        database_url, pg_server_url, nats_url, nats_namespace, search_db, search_settings):
    await migrate("registry", database_url)
    registry_pool = await create_pool(database_url, "registry")
    try:
        async with served(create_app(search_settings)) as search_url:
            summary = await registry_seed.seed(registry_pool)  # regions, dataset, contoh values
            registry = create_registry(RegistrySettings(
                database_url=database_url, nats_url=nats_url, nats_namespace=nats_namespace))
            async with served(registry) as registry_url:
                import httpx
                async with httpx.AsyncClient(base_url=search_url, auth=signed()) as c:
                    async def indexed():
                        r = await query(c, kind="record", limit=1)
                        assert r["total"] == summary["sample_records"], r["total"]
                        return (await query(c, q="kongbeng", limit=1))["items"]
                    await eventually(indexed, timeout=30)
                name = f"t_{uuid.uuid4().hex[:12]}"
                base = pg_server_url.rpartition("/")[0]
                admin = await asyncpg.connect(f"{base}/postgres")
                await admin.execute(f'CREATE DATABASE "{name}"')
                try:
                    await asyncio.to_thread(reindex, registry_url=registry_url,
                                            database_url=f"{base}/{name}", page=100)
                    pool = await create_pool(f"{base}/{name}", "search")
                    async with pool.acquire() as conn:
                        rebuilt = await store.documents_fingerprint(conn)
                    await pool.close()
                finally:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    await admin.close()

                # the seed's last region/dataset events may still be on their way to the live
                # index when the records are all in: it must reach the rebuilt state
                async def same_as_rebuilt():
                    async with search_db.acquire() as conn:
                        live = await store.documents_fingerprint(conn)
                    assert len(rebuilt) == len(live)
                    diff = [(a["doc_id"], k) for a, b in zip(live, rebuilt) for k in a
                            if a[k] != b[k]]
                    assert not diff, diff[:10]
                    return True
                await eventually(same_as_rebuilt, timeout=15)
    finally:
        await registry_pool.close()
