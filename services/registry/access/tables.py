"""The access topic's tables: publishers and their API keys (stored hashed).
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_ARRAY, META, NOW, TEXTS, TZ


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
