"""The embedded PostgreSQL requires a password for every login, local ones too, so a service
role's grants mean something: a service cannot log in as another, nor as the superuser. A data
folder made before passwords (trust) is moved to them at its next start. Servers of this test's
own (it makes one the old way)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from pathlib import Path

import asyncpg
import pytest

from satudata import platform as sd
from shared.infra import EmbeddedPostgres, _as_pg_user, _make_traversable, _pg_bin


@pytest.fixture
def folder(monkeypatch):
    monkeypatch.setenv("SATUDATA_PG_SHARED_BUFFERS", "128MB")
    path = Path(tempfile.mkdtemp(prefix="satudata-test-logins-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)  # (a data folder, 46 MB, and its password)


async def _refused(url: str) -> None:
    with pytest.raises((asyncpg.InvalidPasswordError,
                        asyncpg.InvalidAuthorizationSpecificationError)):
        await asyncpg.connect(url, timeout=10)


async def test_every_login_needs_its_own_password_and_roles_cannot_stand_in_for_each_other(
        folder):
    pg = await asyncio.to_thread(EmbeddedPostgres(folder / "pg").start)
    try:
        await _refused(f"postgresql://postgres@127.0.0.1:{pg.port}/satudata")
        await _refused(f"postgresql://postgres:salah@127.0.0.1:{pg.port}/satudata")
        await _refused(f"postgresql://postgres@/satudata?host={pg.data_dir}&port={pg.port}")
        await asyncio.to_thread(sd.migrate_all, pg.url)
        urls = await asyncio.to_thread(sd.grant_service_roles, pg.url)
        ingest = await asyncpg.connect(urls["ingest"])
        try:
            assert await ingest.fetchval("SELECT count(*) >= 0 FROM ingest.submissions")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await ingest.fetchval("SELECT count(*) FROM registry.api_keys")
        finally:
            await ingest.close()
        registry_password = urls["registry"].split(":")[2].split("@")[0]
        await _refused(f"postgresql://satudata_ingest:{registry_password}@127.0.0.1:{pg.port}"
                       "/satudata")  # ingest's role with the registry's password
        await _refused(f"postgresql://satudata_ingest@127.0.0.1:{pg.port}/satudata")
        # the same passwords on every run against this server: nothing to store
        assert await asyncio.to_thread(sd.grant_service_roles, pg.url) == urls
    finally:
        await asyncio.to_thread(pg.stop)


async def test_a_data_folder_from_before_passwords_requires_them_after_its_next_start(folder):
    data = folder / "pg"
    data.mkdir()
    run_as = _as_pg_user()
    if run_as:
        import shutil
        shutil.chown(data, run_as["user"], run_as["user"])
        _make_traversable(data)
    subprocess.run([str(_pg_bin() / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
                   check=True, capture_output=True, **run_as)  # the old way
    pg = await asyncio.to_thread(EmbeddedPostgres(data).start)
    try:
        await _refused(f"postgresql://postgres@127.0.0.1:{pg.port}/satudata")
        conn = await asyncpg.connect(pg.url)
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()
    finally:
        await asyncio.to_thread(pg.stop)
