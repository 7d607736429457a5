"""Autovacuum that keeps up as the registry ages: the queue-like tables (outbox, inbox, applied
chunks, held values, the feed's verification entries) vacuumed and analysed after 1 % of their
rows changed, the growing ones (records, history) analysed after 2 %, so statistics follow a
million-row dataset (``shared.db.autovacuum_ddl``). The write path does not rely on them (its
statements are driven by the staged chunk), the readers' plans do.

Revision ID: 0011
"""
from alembic import op

from shared.db import autovacuum_ddl

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

S = "registry"
CHURN = ("outbox", "inbox", "applied_chunks", "held_values", "verification_events",
         "conflicts")
GROWTH = ("records", "record_versions")


def upgrade() -> None:
    for statement in autovacuum_ddl(S, CHURN, GROWTH):
        op.execute(statement)


def downgrade() -> None:
    for table in CHURN + GROWTH:
        op.execute(f"ALTER TABLE {S}.{table} RESET (autovacuum_vacuum_scale_factor, "
                   "autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor)")
