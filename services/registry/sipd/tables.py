"""The SIPD topic's tables: which dataset measure is which SIPD e-Walidata indicator, and the
values pushed (an outbox: one row per indicator, year and value, retried until SIPD answers).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_OBJECT, META, NOW, TZ


sipd_indicators = sa.Table(
    "sipd_indicators", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("kodeindikator", sa.Text, nullable=False, unique=True),
    sa.Column("dataset_id", sa.BigInteger, nullable=False),
    sa.Column("measure", sa.Text, nullable=False),
    sa.Column("dims", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    schema=S)

sipd_pushes = sa.Table(
    "sipd_pushes", META,
    sa.Column("id", pg.UUID, primary_key=True),
    sa.Column("indicator_id", sa.BigInteger, nullable=False),
    sa.Column("tahun", sa.Text, nullable=False),
    sa.Column("value", sa.Numeric, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TZ, nullable=False, server_default=NOW),
    sa.Column("response", sa.Text),
    sa.Column("sent_at", TZ),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.CheckConstraint("status IN ('pending', 'sent', 'refused', 'failed', 'superseded')",
                       name="sipd_pushes_status_check"),
    sa.Index("sipd_pushes_due", "status", "next_attempt_at"),
    sa.Index("sipd_pushes_indicator", "indicator_id", "tahun", "created_at"),
    schema=S)
