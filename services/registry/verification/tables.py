"""The verification topic's tables: policies, rules, values held for the walidata, and the
change feed's entries for held values (held, returned, verified, superseded).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_OBJECT, META, NOW, TZ


verification_policies = sa.Table(
    "verification_policies", META,
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), primary_key=True),
    sa.Column("policy", sa.Text, nullable=False, server_default="langsung"),
    sa.Column("outliers", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("outlier_z", sa.Numeric, nullable=False, server_default="3.5"),
    sa.Column("min_history", sa.Integer, nullable=False, server_default="4"),
    sa.Column("min_peers", sa.Integer, nullable=False, server_default="10"),
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    schema=S)

validation_rules = sa.Table(
    "validation_rules", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), nullable=False),
    sa.Column("expression", sa.Text, nullable=False),
    sa.Column("importance", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    sa.Index("validation_rules_dataset", "dataset_id", "id"),
    schema=S)

held_values = sa.Table(
    "held_values", META,
    sa.Column("id", pg.UUID, primary_key=True, server_default=sa.text("gen_random_uuid()")),
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), nullable=False),
    sa.Column("record_id", pg.UUID),  # no foreign key: a proposal never blocks records
    sa.Column("region_code", sa.Text, sa.ForeignKey(f"{S}.regions.code"), nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("dims", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("dims_key", sa.Text, nullable=False, server_default=""),
    sa.Column("vals", pg.JSONB, nullable=False),
    sa.Column("base_vals", pg.JSONB),
    sa.Column("publisher_id", sa.Text, nullable=False),
    sa.Column("submission_id", pg.UUID),
    sa.Column("line", sa.Integer),
    sa.Column("sheet", sa.Text),
    sa.Column("reasons", pg.JSONB, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="held"),
    sa.Column("note", sa.Text),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", TZ),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.Index("held_values_open_one", "dataset_id", "region_code", "period", "dims_key",
             "publisher_id", unique=True, postgresql_where=sa.text("status = 'held'")),
    sa.Index("held_values_queue", "status", "created_at", "id"),
    sa.Index("held_values_record", "record_id"),
    sa.Index("held_values_submission", "submission_id"),
    schema=S)

verification_events = sa.Table(
    "verification_events", META,
    sa.Column("seq", sa.BigInteger, primary_key=True,
              server_default=sa.text(f"nextval('{S}.record_seq')")),
    sa.Column("held_id", pg.UUID, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), nullable=False),
    sa.Column("record_id", pg.UUID),
    sa.Column("region_code", sa.Text, nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("dims", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("publisher_id", sa.Text, nullable=False),
    sa.Column("at", TZ, nullable=False, server_default=NOW),
    sa.CheckConstraint("kind IN ('held', 'returned', 'verified', 'superseded')",
                       name="verification_events_kind_check"),
    schema=S)
