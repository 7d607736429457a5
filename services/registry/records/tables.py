"""The records topic's tables: master records, their hash-chained versions, and the chunks
already applied (so a redelivered chunk is applied once).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_OBJECT, META, NOW, TZ


records = sa.Table(
    "records", META,
    sa.Column("id", pg.UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), nullable=False),
    sa.Column("region_code", sa.Text, sa.ForeignKey(f"{S}.regions.code"), nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("dims", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("dims_key", sa.Text, nullable=False, server_default=""),
    sa.Column("vals", pg.JSONB, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("status", sa.Text, nullable=False, server_default="current"),
    sa.Column("publisher_id", sa.Text, nullable=False),
    sa.Column("submission_id", pg.UUID),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    sa.Column("seq", sa.BigInteger, nullable=False,
              server_default=sa.text(f"nextval('{S}.record_seq')")),
    sa.Column("hash", sa.LargeBinary),  # the newest version's chain link (migration 0005)
    # the key, ordered so that it also serves the outlier checks (migration 0009):
    # a region's earlier periods of one item, and one item's regions in one period
    sa.UniqueConstraint("dataset_id", "dims_key", "region_code", "period"),
    sa.Index("records_dataset_period", "dataset_id", "period", "region_code"),
    sa.Index("records_seq", "seq"),
    schema=S)

record_versions = sa.Table(
    "record_versions", META,
    sa.Column("record_id", pg.UUID, sa.ForeignKey(f"{S}.records.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("vals", pg.JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="current"),
    sa.Column("publisher_id", sa.Text, nullable=False),
    sa.Column("submission_id", pg.UUID),
    sa.Column("conflict_id", pg.UUID),
    sa.Column("recorded_at", TZ, nullable=False, server_default=NOW),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("hash", sa.LargeBinary),  # chains to the previous version (migration 0005)
    sa.Index("record_versions_seq", "seq", unique=True),
    schema=S)

applied_chunks = sa.Table(
    "applied_chunks", META,
    sa.Column("submission_id", pg.UUID, primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("summary", pg.JSONB),
    sa.Column("applied_at", TZ, nullable=False, server_default=NOW),
    schema=S)
