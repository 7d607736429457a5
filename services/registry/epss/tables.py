"""The EPSS topic's table: the walidata's self-assessment per year and indicator (the facts
are computed from the records, never stored).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_ARRAY, META, NOW, TEXTS, TZ


epss_assessments = sa.Table(
    "epss_assessments", META,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("indicator", sa.Text, primary_key=True),
    sa.Column("level", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("evidence", sa.Text),
    sa.Column("assessed_by", sa.Text, nullable=False),
    sa.Column("assessed_at", TZ, nullable=False, server_default=NOW),
    sa.CheckConstraint("level BETWEEN 1 AND 5", name="epss_assessments_level_check"),
    schema=S)

data_plan = sa.Table(  # Daftar Data: what the regency agreed to produce in a year
    "data_plan", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("producer", sa.Text, nullable=False),
    sa.Column("walidata", sa.Text, nullable=False),
    sa.Column("frequency", sa.Text, nullable=False),
    sa.Column("datasets", TEXTS, nullable=False, server_default=EMPTY_ARRAY),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.UniqueConstraint("year", "title"),
    schema=S)
