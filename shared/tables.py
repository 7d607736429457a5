"""Table declarations every service shares: the column helpers, the transactional outbox and
the consumer inbox (the same DDL as shared.db.outbox_ddl, which the first migration of each
service runs). Every service declares its tables in the one SQLModel metadata, each in its
own PostgreSQL schema."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field, SQLModel

META = SQLModel.metadata
NOW = sa.text("now()")
TZ = sa.DateTime(timezone=True)
TEXTS = pg.ARRAY(sa.Text)
EMPTY_ARRAY, EMPTY_OBJECT = sa.text("'{}'::text[]"), sa.text("'{}'::jsonb")


def column(name: str, type_: Any, **kw: Any) -> Any:
    """A SQLModel field stored in the column ``name`` (which may differ from the attribute)."""
    return Field(sa_column=Column(name, type_, **kw))


def outbox_tables(metadata: sa.MetaData, schema: str) -> tuple[sa.Table, sa.Table]:
    outbox = sa.Table(
        "outbox", metadata,
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("event_id", pg.UUID, nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("headers", pg.JSONB, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Index("outbox_unsent", "id", postgresql_where=sa.text("sent_at IS NULL")),
        schema=schema)
    inbox = sa.Table(
        "inbox", metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", pg.UUID, primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=NOW),
        schema=schema)
    return outbox, inbox
