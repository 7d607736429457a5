"""A submission always ends: chunks that ended in DEADLETTER, a 'partial' status, and the
reconciler's bookkeeping.

Revision ID: 0002
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "ingest"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.submissions DROP CONSTRAINT submissions_status_check")
    op.execute(f"ALTER TABLE {S}.submissions ADD CONSTRAINT submissions_status_check "
               "CHECK (status IN ('received','processing','completed','partial','failed'))")
    # failed_at: the chunk ended in DEADLETTER (error holds the reason); republished: how often
    # the reconciler sent it again under a new event id
    op.execute(f"ALTER TABLE {S}.submission_chunks ADD COLUMN failed_at timestamptz")
    op.execute(f"ALTER TABLE {S}.submission_chunks "
               "ADD COLUMN republished int NOT NULL DEFAULT 0")
    op.execute(f"CREATE INDEX submission_chunks_open ON {S}.submission_chunks (submission_id) "
               "WHERE processed_at IS NULL AND failed_at IS NULL")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.submission_chunks_open")
    op.execute(f"ALTER TABLE {S}.submission_chunks DROP COLUMN republished")
    op.execute(f"ALTER TABLE {S}.submission_chunks DROP COLUMN failed_at")
    op.execute(f"ALTER TABLE {S}.submissions DROP CONSTRAINT submissions_status_check")
    op.execute(f"ALTER TABLE {S}.submissions ADD CONSTRAINT submissions_status_check "
               "CHECK (status IN ('received','processing','completed','failed'))")
