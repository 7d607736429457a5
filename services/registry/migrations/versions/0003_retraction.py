"""Withdrawal with a reason: a dataset retracted (and restored) by the walidata, and the reason
kept with each record version (a retracted value is a new version with status 'retracted').

Revision ID: 0003
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.datasets ADD COLUMN retracted_at timestamptz")
    op.execute(f"ALTER TABLE {S}.datasets ADD COLUMN retracted_by text")
    op.execute(f"ALTER TABLE {S}.datasets ADD COLUMN retraction_reason text")
    op.execute(f"ALTER TABLE {S}.record_versions ADD COLUMN reason text")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.record_versions DROP COLUMN reason")
    for column in ("retraction_reason", "retracted_by", "retracted_at"):
        op.execute(f"ALTER TABLE {S}.datasets DROP COLUMN {column}")
