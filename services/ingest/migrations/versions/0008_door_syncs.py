"""A door's last sync per publisher (OpenSID, CKAN): the OpenSID door's submissions are
recorded with their own source, ``opensid`` (earlier ones stay ``json``: they were not told
apart), and an index the listing skip-scans, one probe per publisher however many syncs pile
up over the years.

Revision ID: 0008
"""
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

S = "ingest"


def upgrade() -> None:
    op.execute(f"""ALTER TABLE {S}.submissions DROP CONSTRAINT submissions_source_check,
                   ADD CONSTRAINT submissions_source_check
                   CHECK (source IN ('json', 'csv', 'xlsx', 'ckan', 'opensid'))""")
    op.execute(f"""CREATE INDEX submissions_by_source ON {S}.submissions
                   (source, publisher_id, created_at DESC)
                   WHERE source IN ('opensid', 'ckan')""")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.submissions_by_source")
    op.execute(f"UPDATE {S}.submissions SET source = 'json' WHERE source = 'opensid'")
    op.execute(f"""ALTER TABLE {S}.submissions DROP CONSTRAINT submissions_source_check,
                   ADD CONSTRAINT submissions_source_check
                   CHECK (source IN ('json', 'csv', 'xlsx', 'ckan'))""")
