"""Fixtures for the registry: a running app and the principal the gateway forwards. Its
seeded database and settings (``registry_db``, ``registry_settings``) are in
``tests/integration/conftest.py``."""

import pytest

from services.registry.app import create_app
from tests.helpers import served, signed


@pytest.fixture
async def registry(registry_db, registry_settings):
    """A running registry (real uvicorn) over a migrated, seeded database."""
    pool, summary = registry_db
    async with served(create_app(registry_settings)) as url:
        yield {"url": url, "pool": pool, "keys": summary["keys"], "settings": registry_settings}


def principal_headers(publisher_id: str = "walidata", role: str = "walidata",
                      region_scope: str = "64.08", datasets: list[str] | None = None) -> dict:
    """What the gateway forwards for a resolved API key (X-Satudata-Principal)."""
    from shared.auth import PRINCIPAL_HEADER, Principal

    principal = Principal(key_id=f"key_{publisher_id}", publisher_id=publisher_id,
                          publisher_name=publisher_id, role=role, region_scope=region_scope,
                          datasets=datasets if datasets is not None else ["*"])
    return {PRINCIPAL_HEADER: principal.encode()}


@pytest.fixture
async def client(registry):
    import httpx

    async with httpx.AsyncClient(base_url=registry["url"], timeout=10, auth=signed()) as c:
        yield c
