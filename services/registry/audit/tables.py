"""The audit topic's table: privileged actions, one hash chain.
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.registry.settings import SCHEMA as S
from shared.tables import EMPTY_OBJECT, META, TZ


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
