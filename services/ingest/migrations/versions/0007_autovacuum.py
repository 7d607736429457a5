"""Autovacuum that keeps up as ingest ages: its queue-like tables (outbox, inbox, chunks)
vacuumed and analysed after 1 % of their rows changed, the growing ones (submissions, rows,
receipts) analysed after 2 % (``shared.db.autovacuum_ddl``).

Revision ID: 0007
"""
from alembic import op

from shared.db import autovacuum_ddl

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "ingest"
CHURN = ("outbox", "inbox", "submission_chunks")
GROWTH = ("submissions", "submission_rows", "receipts")


def upgrade() -> None:
    for statement in autovacuum_ddl(S, CHURN, GROWTH):
        op.execute(statement)


def downgrade() -> None:
    for table in CHURN + GROWTH:
        op.execute(f"ALTER TABLE {S}.{table} RESET (autovacuum_vacuum_scale_factor, "
                   "autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor)")
