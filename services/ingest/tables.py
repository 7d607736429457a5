"""Ingest's tables, declared once (the migrations create them; a test asks Alembic
autogenerate to find no difference: tests/integration/test_tables_match_migrations.py).
The hot path (COPY of submission rows) does not go through these declarations."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from shared.tables import META, NOW, TZ, outbox_tables

S = "ingest"
EMPTY_LIST = sa.text("'[]'::jsonb")
ZERO = sa.text("0")

submissions = sa.Table(
    "submissions", META,
    sa.Column("id", pg.UUID, primary_key=True),
    sa.Column("publisher_id", sa.Text, nullable=False),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("dataset", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("filename", sa.Text),
    sa.Column("status", sa.Text, nullable=False, server_default="received"),
    sa.Column("rows", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("chunks", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("idempotency_key", sa.Text),
    sa.Column("content_hash", sa.Text),
    sa.Column("warnings", pg.JSONB, nullable=False, server_default=EMPTY_LIST),
    sa.Column("request_id", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.Column("updated_at", TZ, nullable=False, server_default=NOW),
    # how its numbers and lines are read: every send of its chunks carries them (migration 0005)
    sa.Column("locale", sa.Text, nullable=False, server_default="id"),
    sa.Column("sheet", sa.Text),
    sa.Index("submissions_idempotency", "publisher_id", "idempotency_key", unique=True,
             postgresql_where=sa.text("idempotency_key IS NOT NULL")),
    sa.Index("submissions_by_publisher", "publisher_id", sa.text("created_at DESC"),
             sa.text("id DESC")),
    # a door's last sync per publisher, by a skip scan (store.last_syncs; migration 0008)
    sa.Index("submissions_by_source", "source", "publisher_id", sa.text("created_at DESC"),
             postgresql_where=sa.text("source IN ('opensid', 'ckan')")),
    schema=S)

_SUBMISSION = sa.ForeignKey(f"{S}.submissions.id", ondelete="CASCADE")

submission_rows = sa.Table(
    "submission_rows", META,
    sa.Column("submission_id", pg.UUID, _SUBMISSION, primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("chunk", sa.Integer, nullable=False),
    sa.Column("row", pg.JSONB, nullable=False),
    schema=S)

submission_chunks = sa.Table(
    "submission_chunks", META,
    sa.Column("submission_id", pg.UUID, sa.ForeignKey(f"{S}.submissions.id",
                                                      ondelete="CASCADE"), primary_key=True),
    sa.Column("chunk", sa.Integer, primary_key=True),
    sa.Column("row_offset", sa.Integer, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("event_id", pg.UUID, nullable=False, unique=True),
    sa.Column("processed_at", TZ),
    *(sa.Column(name, sa.Integer, nullable=False, server_default=ZERO)
      for name in ("created", "updated", "unchanged", "conflicts", "rejected", "held")),
    sa.Column("rejected_rows", pg.JSONB, nullable=False, server_default=EMPTY_LIST),
    sa.Column("error", sa.Text),
    sa.Column("failed_at", TZ),
    sa.Column("republished", sa.Integer, nullable=False, server_default=ZERO),
    sa.Column("outcomes", pg.JSONB),  # row indexes by outcome, for receipts
    sa.Index("submission_chunks_open", "submission_id",
             postgresql_where=sa.text("processed_at IS NULL AND failed_at IS NULL")),
    schema=S)

# each submission's signed receipt, served byte for byte once issued
receipts = sa.Table(
    "receipts", META,
    sa.Column("submission_id", pg.UUID, sa.ForeignKey(f"{S}.submissions.id",
                                                      ondelete="CASCADE"), primary_key=True),
    sa.Column("key_id", sa.Text, nullable=False),
    sa.Column("issued_at", TZ, nullable=False, server_default=NOW),
    sa.Column("final_at", TZ, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Index("receipts_key_id", "key_id"),
    schema=S)

# the public key of each key that signed a receipt (migration 0006): backups carry them
receipt_keys = sa.Table(
    "receipt_keys", META,
    sa.Column("kid", sa.Text, primary_key=True),
    sa.Column("jwk", pg.JSONB, nullable=False),
    sa.Column("first_signed_at", TZ, nullable=False, server_default=NOW),
    schema=S)

outbox, inbox = outbox_tables(META, S)
