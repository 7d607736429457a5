"""The feedback topic's tables: citizens' reports that a figure is wrong (no account, the
contact kept only while it is needed).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_OBJECT, META, NOW, TZ


figure_reports = sa.Table(
    "figure_reports", META,
    sa.Column("id", pg.UUID, primary_key=True),
    sa.Column("dataset_id", sa.BigInteger, nullable=False),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("dims", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("measure", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("contact", sa.Text),  # deleted after the retention period (UU 27/2022)
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("answer", sa.Text),
    sa.Column("answered_by", sa.Text),
    sa.Column("answered_at", TZ),
    sa.Column("contact_deleted_at", TZ),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.CheckConstraint("status IN ('open', 'answered')", name="figure_reports_status_check"),
    sa.Index("figure_reports_open", "dataset_id", "status", "created_at"),
    schema=S)
