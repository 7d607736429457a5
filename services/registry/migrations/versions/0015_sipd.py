"""SIPD e-Walidata: dataset measures mapped to indicators (kodeindikator), and the values
pushed to SIPD through an outbox (retried with backoff, one row per indicator, year and value).

Revision ID: 0015
"""
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.sipd_indicators (
        id bigserial PRIMARY KEY,
        kodeindikator text NOT NULL UNIQUE,
        dataset_id bigint NOT NULL,
        measure text NOT NULL,
        dims jsonb NOT NULL DEFAULT '{{}}',
        note text,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""
    CREATE TABLE {S}.sipd_pushes (
        id uuid PRIMARY KEY,
        indicator_id bigint NOT NULL,
        tahun text NOT NULL,
        value numeric NOT NULL,
        status text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        response text,
        sent_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sipd_pushes_status_check
            CHECK (status IN ('pending', 'sent', 'refused', 'failed', 'superseded'))
    )""")
    op.execute(f"CREATE INDEX sipd_pushes_due ON {S}.sipd_pushes (status, next_attempt_at)")
    op.execute(f"CREATE INDEX sipd_pushes_indicator ON {S}.sipd_pushes "
               "(indicator_id, tahun, created_at)")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.sipd_pushes")
    op.execute(f"DROP TABLE {S}.sipd_indicators")
