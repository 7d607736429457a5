"""Autovacuum that keeps up as search ages: the kept counts and queues (rewritten by every
indexed batch) vacuumed and analysed after 1 % of their rows changed, the growing documents
analysed after 2 % (``shared.db.autovacuum_ddl``).

Revision ID: 0008
"""
from alembic import op

from shared.db import autovacuum_ddl

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "search"
CHURN = ("outbox", "inbox", "facet_counts", "count_concepts", "index_state")
GROWTH = ("documents", "records", "vocabulary")


def upgrade() -> None:
    for statement in autovacuum_ddl(S, CHURN, GROWTH):
        op.execute(statement)


def downgrade() -> None:
    for table in CHURN + GROWTH:
        op.execute(f"ALTER TABLE {S}.{table} RESET (autovacuum_vacuum_scale_factor, "
                   "autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor)")
