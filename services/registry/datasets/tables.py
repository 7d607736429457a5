"""The datasets topic's tables: the dataset (a SQLModel class: its ``metadata`` column is the
attribute ``meta``, SQLAlchemy reserves ``metadata``) and its schedule (grace days).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field, SQLModel

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_ARRAY, EMPTY_OBJECT, META, NOW, TEXTS, TZ, column


class Dataset(SQLModel, table=True):
    __tablename__ = "datasets"
    __table_args__ = {"schema": S}
    id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, primary_key=True))
    slug: str = column("slug", sa.Text, nullable=False, unique=True)
    title: str = column("title", sa.Text, nullable=False)
    description: str = column("description", sa.Text, nullable=False, server_default="")
    frequency: str = column("frequency", sa.Text, nullable=False)
    topic: str | None = column("topic", sa.Text)
    tags: list[str] = column("tags", TEXTS, nullable=False, server_default=EMPTY_ARRAY)
    license: str = column("license", sa.Text, nullable=False, server_default="CC-BY-4.0")
    meta: dict = column("metadata", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT)
    schema_: dict = column("schema", pg.JSONB, nullable=False)
    authoritative: list[str] = column("authoritative", TEXTS, nullable=False,
                                    server_default=EMPTY_ARRAY)
    version: int = column("version", sa.Integer, nullable=False, server_default="1")
    created_at: datetime = column("created_at", TZ, nullable=False, server_default=NOW)
    updated_at: datetime = column("updated_at", TZ, nullable=False, server_default=NOW)
    retracted_at: datetime | None = column("retracted_at", TZ)
    retracted_by: str | None = column("retracted_by", sa.Text)
    retraction_reason: str | None = column("retraction_reason", sa.Text)


dataset_schedules = sa.Table(
    "dataset_schedules", META,
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), primary_key=True),
    sa.Column("grace_days", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    schema=S)
