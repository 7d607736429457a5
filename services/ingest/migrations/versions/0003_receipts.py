"""Signed receipts: what became of each row of a chunk, as the registry reports it,
and each submission's receipt once issued (served byte for byte afterwards).

Revision ID: 0003
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "ingest"


def upgrade() -> None:
    # {"created": [row indexes], "updated": [...], ...}; NULL from a registry that predates it
    op.execute(f"ALTER TABLE {S}.submission_chunks ADD COLUMN outcomes jsonb")
    op.execute(f"""
    CREATE TABLE {S}.receipts (
        submission_id uuid PRIMARY KEY REFERENCES {S}.submissions(id) ON DELETE CASCADE,
        key_id text NOT NULL,
        issued_at timestamptz NOT NULL DEFAULT now(),
        final_at timestamptz NOT NULL,  -- the submission state it describes (its updated_at)
        body bytea NOT NULL           -- the canonical signed JSON, exactly as served
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.receipts")
    op.execute(f"ALTER TABLE {S}.submission_chunks DROP COLUMN outcomes")
