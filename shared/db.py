"""PostgreSQL helpers: one asyncpg pool per service, pinned to that service's schema.

Store functions take a connection and never commit; the service's unit of work owns the
transaction (``async with pool.acquire() as conn, conn.transaction(): ...``).
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary codecs, so that COPY (binary) can carry json/jsonb columns too.
    await conn.set_type_codec("jsonb", schema="pg_catalog", format="binary",
                              encoder=lambda v: b"\x01" + _dumps(v).encode(),
                              decoder=lambda b: json.loads(b[1:]))
    await conn.set_type_codec("json", schema="pg_catalog", format="binary",
                              encoder=lambda v: _dumps(v).encode(), decoder=json.loads)


async def _transaction_state_only(conn: asyncpg.Connection) -> None:
    """A released connection's reset where the code keeps no session state: asyncpg still
    rolls back an open transaction first (which ends transaction-scoped settings, locks and
    cursors); the session reset's round trip (advisory unlocks, CLOSE ALL, UNLISTEN, RESET
    ALL) is skipped."""


async def create_pool(url: str, schema: str, *, min_size: int = 1, max_size: int = 10,
                      session_state: bool = True) -> asyncpg.Pool:
    """`session_state=False` for a service whose code sets only transaction-scoped state
    (``set_config(..., true)``, ``pg_advisory_xact_lock``): each release saves a round trip."""
    return await asyncpg.create_pool(
        dsn=to_asyncpg_dsn(url), min_size=min_size, max_size=max_size, init=_init_connection,
        server_settings={"search_path": f"{schema},public", "application_name": schema},
        reset=None if session_state else _transaction_state_only,
    )


async def xact_lock(conn: asyncpg.Connection, name: str) -> None:
    """Wait for the transaction-scoped advisory lock ``name``: one holder at a time across
    replicas (a scan, a seed), released at commit or rollback."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", name)


def to_asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://").replace(
        "postgresql+psycopg://", "postgresql://")


def to_sqlalchemy_url(url: str) -> str:
    return "postgresql+asyncpg://" + url.split("://", 1)[1]


def outbox_ddl(schema: str) -> list[str]:
    """The transactional outbox and consumer inbox every service keeps in its own schema.

    Used by each service's first Alembic migration, so the tables are the same everywhere.
    """
    return [
        f"""CREATE TABLE {schema}.outbox (
            id bigserial PRIMARY KEY,
            event_id uuid NOT NULL UNIQUE,
            subject text NOT NULL,
            payload jsonb NOT NULL,
            headers jsonb NOT NULL DEFAULT '{{}}',
            created_at timestamptz NOT NULL DEFAULT now(),
            sent_at timestamptz)""",
        f"CREATE INDEX outbox_unsent ON {schema}.outbox (id) WHERE sent_at IS NULL",
        f"""CREATE TABLE {schema}.inbox (
            consumer text NOT NULL,
            event_id uuid NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, event_id))""",
    ]


# Autovacuum for tables that churn (queues, held values, kept counts: rows inserted, updated and
# deleted all day) and for tables that only grow (records, history, search documents): at the
# defaults (20 % dead rows before a vacuum, 10 % changed before an analyze) a queue bloats
# between vacuums and a million-row table's statistics lag its growth by 100,000 rows.
CHURN = ("autovacuum_vacuum_scale_factor = 0.01", "autovacuum_analyze_scale_factor = 0.01",
         "autovacuum_vacuum_insert_scale_factor = 0.01")
GROWTH = ("autovacuum_analyze_scale_factor = 0.02", "autovacuum_vacuum_insert_scale_factor = 0.05")


def autovacuum_ddl(schema: str, churn: tuple[str, ...] = (), growth: tuple[str, ...] = ()
                   ) -> list[str]:
    """ALTER TABLE ... SET (...) for a schema's churning and growing tables (a migration's)."""
    return [f"ALTER TABLE {schema}.{t} SET ({', '.join(CHURN)})" for t in churn] + \
           [f"ALTER TABLE {schema}.{t} SET ({', '.join(GROWTH)})" for t in growth]


def run_migrations(service_dir: Path, url: str, revision: str = "head") -> None:
    """Apply one service's Alembic history (``services/<name>/migrations``) to ``url``, up to
    ``revision`` (tests of an upgrade stop at an earlier release's head)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", to_sqlalchemy_url(url))
    command.upgrade(cfg, revision)
