"""The boundaries topic's table: a region's boundary (GeoJSON geometry) for the time its
validity says, with its source, whether it is sample data, and the hash of what is stored.
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import META, NOW, TZ

region_boundaries = sa.Table(
    "region_boundaries", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("region_code", sa.Text, sa.ForeignKey(f"{S}.regions.code"), nullable=False),
    sa.Column("valid_from", sa.Date),    # the first day it holds (none: always before)
    sa.Column("valid_until", sa.Date),   # the first day it no longer holds
    sa.Column("geometry", pg.JSONB, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False),
    sa.Column("hash", sa.Text, nullable=False),  # sha256 of the geometry as stored
    sa.Column("loaded_by", sa.Text, nullable=False),
    sa.Column("loaded_at", TZ, nullable=False, server_default=NOW),
    sa.Index("region_boundaries_region", "region_code"),
    schema=S)
