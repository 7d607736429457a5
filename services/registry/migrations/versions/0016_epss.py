"""EPSS self-assessment: the maturity level the walidata chose per year and indicator, with a
note and the evidence it links (the evidence itself is computed from the records); and the
Daftar Data, the yearly list of data the regency agreed to produce (Forum Satu Data), with
the datasets that fulfil each item.

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
    op.execute(f"""
    CREATE TABLE {S}.data_plan (
        id bigserial PRIMARY KEY,
        year integer NOT NULL,
        title text NOT NULL,
        producer text NOT NULL,
        walidata text NOT NULL,
        frequency text NOT NULL,
        datasets text[] NOT NULL DEFAULT '{{}}',
        note text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (year, title)
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.data_plan")
    op.execute(f"DROP TABLE {S}.epss_assessments")
