"""The body of every service's migrations/env.py: async engine, schema-scoped version table."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


def run(schema: str) -> None:
    config = context.config
    url = config.get_main_option("sqlalchemy.url")

    def do_run(connection) -> None:
        connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        context.configure(connection=connection, version_table_schema=schema,
                          include_schemas=True, transaction_per_migration=False)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            # Several services may migrate the same database at once: serialise them.
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('satudata.migrate'))"))
            await conn.run_sync(do_run)
        await engine.dispose()

    asyncio.run(main())
