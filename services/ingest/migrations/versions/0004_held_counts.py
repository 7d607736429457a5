"""Each chunk's count of values held for the walidata (rules, outliers, the
verifikasi policy), so a submission's summary says how many wait for verification.

Revision ID: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "ingest"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.submission_chunks ADD COLUMN held int NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.submission_chunks DROP COLUMN held")
