"""EPSS self-assessment: the maturity level the walidata chose per year and indicator, with a
note and the evidence it links (the evidence itself is computed from the records).

Revision ID: 0016
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.epss_assessments (
        year integer NOT NULL,
        indicator text NOT NULL,
        level integer NOT NULL,
        note text,
        evidence text,
        assessed_by text NOT NULL,
        assessed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (year, indicator),
        CONSTRAINT epss_assessments_level_check CHECK (level BETWEEN 1 AND 5)
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.epss_assessments")
