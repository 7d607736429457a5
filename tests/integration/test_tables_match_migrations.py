"""Each service's tables are declared once (services/<name>/tables.py) and created by its
migrations: Alembic autogenerate, comparing the two, must find nothing to do."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.ingest import tables as ingest_tables
from services.registry.migrations import metadata as registry_tables
from shared.db import to_sqlalchemy_url
from tests.conftest import migrate

SERVICES = {"registry": registry_tables, "ingest": ingest_tables}


def _differences(connection, schema: str) -> list:
    def ours(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table":
            return obj.schema == schema and name != "alembic_version"
        return True

    context = MigrationContext.configure(connection, opts={
        "include_schemas": True, "include_object": ours,
        "include_name": lambda name, type_, parent: name == schema if type_ == "schema" else True,
        "compare_type": True})
    return compare_metadata(context, SERVICES[schema].META)


async def _compare(database_url: str, schema: str, before: str | None = None) -> list:
    await migrate(schema, database_url)
    engine = create_async_engine(to_sqlalchemy_url(database_url))
    try:
        async with engine.begin() as conn:
            if before:
                await conn.exec_driver_sql(before)
            return await conn.run_sync(_differences, schema)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("schema", sorted(SERVICES))
async def test_autogenerate_finds_no_difference(database_url, schema):
    assert await _compare(database_url, schema) == []


async def test_the_comparison_would_see_a_missing_column(database_url):
    diff = await _compare(database_url, "registry",
                          before="ALTER TABLE registry.datasets DROP COLUMN topic")
    assert [d[0] for d in diff] == ["add_column"]


async def test_the_comparison_would_see_a_missing_index(database_url):
    diff = await _compare(database_url, "ingest",
                          before="DROP INDEX ingest.submission_chunks_open")
    assert [d[0] for d in diff] == ["add_index"]
