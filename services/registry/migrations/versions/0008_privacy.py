"""Privacy-safe publishing: which datasets are sensitive, with their threshold k
and whether zero is published; and the public form of each record last sent on the event bus,
so a record whose suppression flips (a neighbour's small count arrived) is sent again.

Revision ID: 0008
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.dataset_privacy (
        dataset_id bigint PRIMARY KEY,  -- datasets are withdrawn, never deleted
        sensitive boolean NOT NULL DEFAULT true,
        k int NOT NULL DEFAULT 5 CHECK (k BETWEEN 2 AND 100),
        publish_zero boolean NOT NULL DEFAULT true,
        updated_by text,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""
    CREATE TABLE {S}.privacy_published (
        record_id uuid PRIMARY KEY,  -- no foreign key: tests and restores truncate records
        hidden jsonb NOT NULL DEFAULT '{{}}'   -- measure -> reason, as last sent on the bus
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.privacy_published")
    op.execute(f"DROP TABLE {S}.dataset_privacy")
