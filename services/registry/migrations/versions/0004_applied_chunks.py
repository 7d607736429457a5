"""Submission chunks applied, keyed by the chunk itself: a re-published chunk (a new event id
from ingest's reconciler, or a dead letter replayed) is applied once.

Revision ID: 0004
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.applied_chunks (
        submission_id uuid NOT NULL,
        chunk int NOT NULL,
        summary jsonb,  -- the SubmissionChunkProcessedV1 sent back, re-sent for a duplicate
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (submission_id, chunk)
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.applied_chunks")
