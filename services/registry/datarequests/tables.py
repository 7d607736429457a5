"""The data requests topic's tables: a citizen's request for data not yet published
(permohonan data, UU 14/2008) and the collective leave days (cuti bersama) the walidata enters.
Declared once; services/registry/migrations/metadata.py gathers every topic's for the
migrations check."""

from __future__ import annotations

import sqlalchemy as sa

from services.registry.settings import SCHEMA as S
from shared.tables import META, NOW, TZ


data_requests = sa.Table(
    "data_requests", META,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("number", sa.Text, nullable=False, unique=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text),
    sa.Column("contact", sa.Text),  # deleted after the retention period (UU 27/2022)
    sa.Column("status", sa.Text, nullable=False, server_default="diajukan"),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("extended_due_on", sa.Date),
    sa.Column("extension_notice", sa.Text),
    sa.Column("answer", sa.Text),
    sa.Column("dataset_slug", sa.Text),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", TZ),
    sa.Column("contact_deleted_at", TZ),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    sa.CheckConstraint("status IN ('diajukan', 'diperpanjang', 'dijawab', 'ditolak')",
                       name="data_requests_status_check"),
    schema=S)

collective_leave = sa.Table(
    "collective_leave", META,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("note", sa.Text),
    sa.Column("entered_by", sa.Text),
    sa.Column("created_at", TZ, nullable=False, server_default=NOW),
    schema=S)
