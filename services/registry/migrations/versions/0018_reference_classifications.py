"""Reference classifications (KBLI, KBJI, ...) the walidata loads, with the hash of the codes
stored; a dataset's dimension may declare one and takes its codes from it.

Revision ID: 0018
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.reference_classifications (
        name text PRIMARY KEY,
        title text NOT NULL,
        source text NOT NULL,
        codes jsonb NOT NULL,
        hash text NOT NULL,
        loaded_by text NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.reference_classifications")
