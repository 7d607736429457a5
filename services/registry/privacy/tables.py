"""The privacy topic's tables (no foreign keys: tests and restores truncate records and
datasets, and a stale row for a gone record is harmless).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_OBJECT, META, NOW, TZ


dataset_privacy = sa.Table(
    "dataset_privacy", META,
    sa.Column("dataset_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("k", sa.Integer, nullable=False, server_default="5"),
    sa.Column("publish_zero", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    sa.CheckConstraint("k BETWEEN 2 AND 100"),
    schema=S)

privacy_published = sa.Table(  # each record's hidden measures as last sent on the bus
    "privacy_published", META,
    sa.Column("record_id", pg.UUID, primary_key=True),
    sa.Column("hidden", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT),
    schema=S)
