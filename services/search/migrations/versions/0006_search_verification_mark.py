"""The mark "sedang diverifikasi" on records and their documents.

A record whose newer value waits for the walidata is re-sent by the registry at the same
version with ``verification_status`` 'sedang_diverifikasi'; search keeps it and answers it
in every hit, so the public sees the last verified value, marked.

Revision ID: 0006
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE search.records ADD COLUMN verification_status text")
    op.execute("ALTER TABLE search.documents ADD COLUMN verification_status text")


def downgrade() -> None:
    op.execute("ALTER TABLE search.documents DROP COLUMN verification_status")
    op.execute("ALTER TABLE search.records DROP COLUMN verification_status")
