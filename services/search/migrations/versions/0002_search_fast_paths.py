"""Fast paths for queries over a million records.

A query's matches are found in two parts: records by the tsvector alone (GIN bitmap, no
per-row re-check), and the few region and dataset documents by tsvector or trigram name
(this partial index lists them, so that part never scans records).

Revision ID: 0002
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "search"


def upgrade() -> None:
    op.execute(f"""CREATE INDEX documents_not_record ON {S}.documents (doc_id)
                   WHERE kind <> 'record'""")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.documents_not_record")
