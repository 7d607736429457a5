"""The registry's tables are declared once (services/registry/tables.py) and created by the
migrations: Alembic autogenerate, comparing the two, must find nothing to do."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from services.registry import tables
from shared.db import to_sqlalchemy_url
from tests.conftest import migrate


def _differences(connection) -> list:
    def ours(obj, name, type_, reflected, compare_to) -> bool:
        if type_ == "table":
            return obj.schema == tables.S and name != "alembic_version"
        return True

    context = MigrationContext.configure(connection, opts={
        "include_schemas": True, "include_object": ours,
        "include_name": lambda name, type_, parent: (
            name == tables.S if type_ == "schema" else True),
        "compare_type": True})
    return compare_metadata(context, tables.META)


async def test_autogenerate_finds_no_difference(database_url):
    await migrate("registry", database_url)
    engine = create_async_engine(to_sqlalchemy_url(database_url))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert diff == []


async def test_the_comparison_would_see_a_missing_column(database_url):
    await migrate("registry", database_url)
    engine = create_async_engine(to_sqlalchemy_url(database_url))
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ALTER TABLE registry.datasets DROP COLUMN topic")
            diff = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert [d[0] for d in diff] == ["add_column"]
