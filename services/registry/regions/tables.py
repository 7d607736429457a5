"""The regions topic's tables: the Kemendagri tree and its aliases.
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa

from services.registry.settings import SCHEMA as S
from shared.tables import META, NOW, TEXTS, TZ


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
