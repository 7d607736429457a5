"""A service's database password rotated without downtime (docs/runbooks/rotation.md).

PostgreSQL holds one password per role, so the change goes through a second login role that is
a member of the service's role: it can do all the service does on its schema (the schema and
its tables stay owned by the service's role, as ``satudata.platform.grant_service_roles``
makes them), and the old login is closed (``NOLOGIN``) only after every process has moved. A
connection already open keeps working when its role is closed: authentication happens once,
at connect, so a pool drains onto the new role as its processes restart. Roles here are this
test's own (roles are server-wide; the platform's are left alone).
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest


@pytest.fixture
async def service_role(pg_server_url):
    suffix = uuid.uuid4().hex[:8]
    role, schema = f"rot_svc_{suffix}", f"rot_{suffix}"
    admin = await asyncpg.connect(pg_server_url)
    await admin.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                        f"PASSWORD '{PASSWORDS['old']}'")
    await admin.execute(f"CREATE SCHEMA {schema} AUTHORIZATION {role}")
    await admin.execute(f"CREATE TABLE {schema}.items (id int PRIMARY KEY, note text)")
    await admin.execute(f"ALTER TABLE {schema}.items OWNER TO {role}")
    yield admin, role, schema
    await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    for name in (f"{role}_2", role):
        await admin.execute(f"DROP ROLE IF EXISTS {name}")
    await admin.close()


PASSWORDS = {"old": "lama-" + uuid.uuid4().hex, "new": "baru-" + uuid.uuid4().hex}


def _as(url: str, role: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}:{password}@{rest.split('@', 1)[-1]}"


async def test_a_second_login_role_takes_over_and_the_old_one_closes_without_breaking_open_pools(
        pg_server_url, service_role):
    admin, role, schema = service_role
    old_pool = await asyncpg.create_pool(_as(pg_server_url, role, PASSWORDS["old"]),
                                         min_size=1, max_size=1)
    try:
        await old_pool.execute(f"INSERT INTO {schema}.items VALUES (1, 'lama')")
        # 1. the new login, a member of the service's role (password: ... PASSWORD '<new>')
        await admin.execute(f"CREATE ROLE {role}_2 LOGIN IN ROLE {role} "
                            f"PASSWORD '{PASSWORDS['new']}'")
        new_pool = await asyncpg.create_pool(_as(pg_server_url, f"{role}_2", PASSWORDS["new"]),
                                             min_size=1, max_size=2)
        try:
            # both valid during the change; the new one does what the service does
            await new_pool.execute(f"INSERT INTO {schema}.items VALUES (2, 'baru')")
            await new_pool.execute(f"UPDATE {schema}.items SET note = 'baru' WHERE id = 1")
            async with new_pool.acquire() as conn, conn.transaction():
                await conn.execute(f"CREATE TEMPORARY TABLE t (LIKE {schema}.items)")
                await conn.copy_records_to_table("t", records=[(3, "salin")])
                await conn.execute(f"INSERT INTO {schema}.items SELECT * FROM t")
            assert await old_pool.fetchval(f"SELECT count(*) FROM {schema}.items") == 3
            # 2. every process on the new role: the old login is closed
            await admin.execute(f"ALTER ROLE {role} NOLOGIN")
            assert await old_pool.fetchval(f"SELECT count(*) FROM {schema}.items") == 3
            with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError):
                await asyncpg.connect(_as(pg_server_url, role, PASSWORDS["old"]))
            assert await new_pool.fetchval(
                f"SELECT note FROM {schema}.items WHERE id = 1") == "baru"
            owner = await admin.fetchval(
                "SELECT tableowner FROM pg_tables WHERE schemaname = $1", schema)
            assert owner == role  # ownership never moved: nothing to re-grant
        finally:
            await new_pool.close()
    finally:
        await old_pool.close()
