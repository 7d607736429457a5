"""The conflicts topic's table: a differing value from a second publisher, until decided.
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import META, NOW, TZ


conflicts = sa.Table(
    "conflicts", META,
    sa.Column("id", pg.UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("record_id", pg.UUID, sa.ForeignKey(f"{S}.records.id"), nullable=False),
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), nullable=False),
    sa.Column("base_version", sa.Integer, nullable=False),
    sa.Column("current_vals", pg.JSONB, nullable=False),
    sa.Column("current_publisher", sa.Text, nullable=False),
    sa.Column("proposed_vals", pg.JSONB, nullable=False),
    sa.Column("proposed_publisher", sa.Text, nullable=False),
    sa.Column("submission_id", pg.UUID),
    sa.Column("status", sa.Text, nullable=False, server_default="open"),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.Column("resolved_at", TZ),
    sa.Column("resolved_by", sa.Text),
    sa.Column("resolution_note", sa.Text),
    sa.Index("conflicts_open_one", "record_id", "proposed_publisher", unique=True,
             postgresql_where=sa.text("status = 'open'")),
    sa.Index("conflicts_dataset", "dataset_id", "status"),
    sa.Index("conflicts_status_created", "status", sa.text("created_at DESC")),
    sa.Index("conflicts_open_record", "record_id", postgresql_where=sa.text("status = 'open'")),
    schema=S)
