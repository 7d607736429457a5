"""The regions topic's tables: the Kemendagri tree and its aliases.
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_ARRAY, META, NOW, TEXTS, TZ


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

region_changes = sa.Table(
    "region_changes", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("effective", sa.Date),
    sa.Column("from_codes", TEXTS, nullable=False, server_default=EMPTY_ARRAY),
    sa.Column("to_codes", TEXTS, nullable=False, server_default=EMPTY_ARRAY),
    sa.Column("decree_number", sa.Text),
    sa.Column("decree_date", sa.Date),
    sa.Column("note", sa.Text),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("sample", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_by", sa.Text),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.CheckConstraint("kind IN ('split', 'merge', 'code_change', 'move', 'rename', "
                       "'creation')", name="region_changes_kind_check"),
    sa.Index("region_changes_from", "from_codes", postgresql_using="gin"),
    sa.Index("region_changes_to", "to_codes", postgresql_using="gin"),
    schema=S)
