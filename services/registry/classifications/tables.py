"""The classifications topic's table: reference classifications a dimension may declare its
codes from (KBLI, KBJI, ...), loaded by the walidata from the source it names. Declared once;
services/registry/migrations/metadata.py gathers every topic's for the migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import META, NOW, TZ

reference_classifications = sa.Table(
    "reference_classifications", META,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("codes", pg.JSONB, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),  # sha256 of the codes as stored (jsonb text)
    sa.Column("loaded_by", sa.Text, nullable=False),
    sa.Column("loaded_at", TZ, nullable=False, server_default=NOW),
    schema=S)
