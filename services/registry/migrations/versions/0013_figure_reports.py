"""Citizens' reports that a figure is wrong: open until the walidata answers; the contact
(optional) is deleted once the report has been answered for the retention period.

Revision ID: 0013
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.figure_reports (
        id uuid PRIMARY KEY,
        dataset_id bigint NOT NULL,
        region_code text NOT NULL,
        period text NOT NULL,
        dims jsonb NOT NULL DEFAULT '{{}}',
        measure text,
        message text NOT NULL,
        contact text,
        status text NOT NULL DEFAULT 'open',
        answer text,
        answered_by text,
        answered_at timestamptz,
        contact_deleted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT figure_reports_status_check CHECK (status IN ('open', 'answered'))
    )""")
    op.execute(f"CREATE INDEX figure_reports_open ON {S}.figure_reports "
               "(dataset_id, status, created_at)")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.figure_reports")
