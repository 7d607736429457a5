"""The timeliness topic's tables: reminders sent once, their deliveries, publishers' contacts.
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import META, NOW, TZ


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
