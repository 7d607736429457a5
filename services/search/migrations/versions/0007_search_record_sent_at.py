"""When the registry sent a record's event (``RecordV1.sent_at``): a record re-sent at the
same version (its public form or its verification mark changed) replaces what search holds
only when it was sent later, so concurrent indexing loops cannot put an older form back.

Revision ID: 0007
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE search.records ADD COLUMN sent_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE search.records DROP COLUMN sent_at")
