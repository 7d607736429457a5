"""The statistical metadata topic's table: every version of a dataset's BPS metadata
(MS-Kegiatan, and per measure MS-Variabel or MS-Indikator), reviewed by the walidata like a
held value. Declared once; services/registry/migrations/metadata.py gathers every topic's for
the migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import META, NOW, TZ

statistical_metadata = sa.Table(
    "statistical_metadata", META,
    sa.Column("dataset_id", sa.BigInteger, sa.ForeignKey(f"{S}.datasets.id"), primary_key=True,
              autoincrement=False),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", pg.JSONB, nullable=False),
    # sha256 of the document as PostgreSQL writes jsonb as text: computed where it is stored
    sa.Column("hash", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("submitted_by", sa.Text, nullable=False),
    sa.Column("submitted_at", TZ, nullable=False, server_default=NOW),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", TZ),
    sa.CheckConstraint("status IN ('held', 'verified', 'returned', 'superseded')",
                       name="statistical_metadata_status_check"),
    sa.Index("statistical_metadata_verified", "dataset_id", sa.text("version DESC"),
             postgresql_where=sa.text("status = 'verified'")),
    schema=S)
