"""A retired region's successors (codes and names, several after a split) kept beside it, so
searching a village by its old name finds it with the regions that replaced it; and the day
a region began, so `?current=true` expects the units valid in a period.

Revision ID: 0009
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

S = "search"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.regions ADD COLUMN successors text")
    op.execute(f"ALTER TABLE {S}.regions ADD COLUMN valid_from text")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.regions DROP COLUMN valid_from")
    op.execute(f"ALTER TABLE {S}.regions DROP COLUMN successors")
