"""Data requests (permohonan data, UU 14/2008): numbered, with a public status and a due date
in working days; and the collective leave days (cuti bersama) those working days skip.

Revision ID: 0014
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.data_requests (
        id bigserial PRIMARY KEY,
        number text NOT NULL UNIQUE,
        subject text NOT NULL,
        purpose text,
        contact text,
        status text NOT NULL DEFAULT 'diajukan',
        received_on date NOT NULL,
        due_on date NOT NULL,
        extended_due_on date,
        extension_notice text,
        answer text,
        dataset_slug text,
        decided_by text,
        decided_at timestamptz,
        contact_deleted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT data_requests_status_check
            CHECK (status IN ('diajukan', 'diperpanjang', 'dijawab', 'ditolak'))
    )""")
    op.execute(f"""
    CREATE TABLE {S}.collective_leave (
        day date PRIMARY KEY,
        note text,
        entered_by text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.collective_leave")
    op.execute(f"DROP TABLE {S}.data_requests")
