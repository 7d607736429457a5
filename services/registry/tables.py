"""The registry's tables, declared once (the migrations create them; a test asks Alembic
autogenerate to find no difference: tests/integration/test_tables_match_migrations.py).

The dataset table is a SQLModel class: its ``metadata`` column is the attribute ``meta``
(SQLAlchemy reserves ``metadata``). The others are plain SQLAlchemy tables in the same
metadata. The hot paths do not go through these declarations: they stay asyncpg and COPY.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Column, Field, SQLModel

from shared.tables import NOW, outbox_tables

S = "registry"
META = SQLModel.metadata
TEXTS = pg.ARRAY(sa.Text)
EMPTY_ARRAY, EMPTY_OBJECT = sa.text("'{}'::text[]"), sa.text("'{}'::jsonb")
TZ = sa.DateTime(timezone=True)


def _col(name: str, type_: Any, **kw: Any) -> Any:
    return Field(sa_column=Column(name, type_, **kw))


class Dataset(SQLModel, table=True):
    __tablename__ = "datasets"
    __table_args__ = {"schema": S}
    id: int | None = Field(default=None, sa_column=Column(sa.BigInteger, primary_key=True))
    slug: str = _col("slug", sa.Text, nullable=False, unique=True)
    title: str = _col("title", sa.Text, nullable=False)
    description: str = _col("description", sa.Text, nullable=False, server_default="")
    frequency: str = _col("frequency", sa.Text, nullable=False)
    topic: str | None = _col("topic", sa.Text)
    tags: list[str] = _col("tags", TEXTS, nullable=False, server_default=EMPTY_ARRAY)
    license: str = _col("license", sa.Text, nullable=False, server_default="CC-BY-4.0")
    meta: dict = _col("metadata", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT)
    schema_: dict = _col("schema", pg.JSONB, nullable=False)
    authoritative: list[str] = _col("authoritative", TEXTS, nullable=False,
                                    server_default=EMPTY_ARRAY)
    version: int = _col("version", sa.Integer, nullable=False, server_default="1")
    created_at: datetime = _col("created_at", TZ, nullable=False, server_default=NOW)
    updated_at: datetime = _col("updated_at", TZ, nullable=False, server_default=NOW)
    retracted_at: datetime | None = _col("retracted_at", TZ)
    retracted_by: str | None = _col("retracted_by", sa.Text)
    retraction_reason: str | None = _col("retraction_reason", sa.Text)


regions = sa.Table(
    "regions", META,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    sa.Column("parent_code", sa.Text),
    sa.Column("path", TEXTS, nullable=False),
    sa.Column("valid_from", sa.Date),
    sa.Column("valid_until", sa.Date),
    sa.Column("successor_code", sa.Text, sa.ForeignKey(f"{S}.regions.code")),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    sa.Index("regions_parent", "parent_code"),
    sa.Index("regions_path", "path", postgresql_using="gin"),
    sa.Index("regions_level", "level"),
    schema=S)

region_aliases = sa.Table(
    "region_aliases", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("region_code", sa.Text, sa.ForeignKey(f"{S}.regions.code"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("alias", sa.Text, nullable=False),
    sa.Column("alias_norm", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="active"),
    sa.Column("note", sa.Text),
    sa.Column("valid_from", sa.Date),
    sa.Column("valid_until", sa.Date),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.Column("reviewed_by", sa.Text),
    sa.Column("reviewed_at", TZ),
    sa.UniqueConstraint("kind", "alias_norm", "region_code"),
    sa.Index("region_aliases_norm", "alias_norm"),
    sa.Index("region_aliases_status", "status", "id"),
    schema=S)

publishers = sa.Table(
    "publishers", META,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("region_scope", sa.Text, sa.ForeignKey(f"{S}.regions.code"), nullable=False),
    sa.Column("datasets", TEXTS, nullable=False, server_default=EMPTY_ARRAY),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    schema=S)

api_keys = sa.Table(
    "api_keys", META,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("publisher_id", sa.Text, sa.ForeignKey(f"{S}.publishers.id"), nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    sa.Column("label", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.Column("expires_at", TZ),
    sa.Column("revoked_at", TZ),
    sa.Index("api_keys_publisher", "publisher_id"),
    schema=S)

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
    # the key, ordered so that it also serves the outlier checks (issue 14, migration 0009):
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

applied_chunks = sa.Table(
    "applied_chunks", META,
    sa.Column("submission_id", pg.UUID, primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("summary", pg.JSONB),
    sa.Column("applied_at", TZ, nullable=False, server_default=NOW),
    schema=S)

# privileged actions, one hash chain (issue 19; audit_hash in migration 0005)
audit_log = sa.Table(
    "audit_log", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", TZ, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("key_id", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target", sa.Text),
    sa.Column("details", pg.JSONB, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("client_addr", sa.Text),
    sa.Column("request_id", sa.Text),
    sa.Column("prev_hash", sa.LargeBinary),
    sa.Column("hash", sa.LargeBinary, nullable=False),
    sa.Index("audit_log_action", "action", "id"),
    schema=S)

# --- issue 14: checked before it is published (migration 0006) -----------------------------

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

# the change feed's entries for held values (migration 0010): held, returned, verified, superseded
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

# --- timeliness (migration 0007): grace periods, reminders sent once, their deliveries ----

dataset_schedules = sa.Table(
    "dataset_schedules", META,
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), primary_key=True),
    sa.Column("grace_days", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.Text),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    schema=S)

reminders = sa.Table(
    "reminders", META,
    sa.Column("id", pg.UUID, primary_key=True),
    sa.Column("publisher_id", sa.Text, sa.ForeignKey(f"{S}.publishers.id"), nullable=False),
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), nullable=False),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("due_at", TZ, nullable=False),
    sa.Column("payload", pg.JSONB, nullable=False),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.UniqueConstraint("publisher_id", "dataset_id", "period", "stage"),
    schema=S)

reminder_deliveries = sa.Table(
    "reminder_deliveries", META,
    sa.Column("id", pg.UUID, primary_key=True),
    sa.Column("reminder_id", pg.UUID, sa.ForeignKey(f"{S}.reminders.id"), nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TZ, nullable=False, server_default=NOW),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", TZ),
    sa.UniqueConstraint("reminder_id", "channel", "target"),
    sa.Index("reminder_deliveries_due", "next_attempt_at",
             postgresql_where=sa.text("status = 'pending'")),
    schema=S)

publisher_contacts = sa.Table(
    "publisher_contacts", META,
    sa.Column("publisher_id", sa.Text, sa.ForeignKey(f"{S}.publishers.id"), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    schema=S)

outbox, inbox = outbox_tables(META, S)

# --- issue 19: privacy-safe publishing (migration 0008); no foreign keys: tests and restores
# truncate records and datasets, and a stale row for a gone record is harmless ---------------

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
