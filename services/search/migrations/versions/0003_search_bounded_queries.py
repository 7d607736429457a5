"""Bounded queries: a stored static rank, a well-ordered walk over records, an index version.

- documents.static_rank: in [0, 1); current regions and records of current regions above
  retired ones, newer periods above older. Records whose words are too common to rank are
  walked in this order (documents_record_walk), so the first page never ranks every match.
- documents_tsv without fastupdate: GIN's pending list made whichever indexing transaction
  crossed its limit flush it (seconds at a million documents), and every query scan it; at
  1,000 rows/s into 1M documents index freshness p99 went from 1-3 s to 0.04 s.
- index_state.version: bumped by every indexing transaction; a query reads it in its own
  snapshot, so an answer cached under a version is exactly what that version holds.

Revision ID: 0003
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "search"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.documents ADD COLUMN static_rank real NOT NULL DEFAULT 0")
    op.execute(f"""CREATE INDEX documents_record_walk ON {S}.documents
                   (static_rank DESC, doc_id) WHERE kind = 'record'""")
    op.execute(f"ALTER INDEX {S}.documents_tsv SET (fastupdate = off)")
    op.execute(f"""CREATE TABLE {S}.index_state (
                       id int PRIMARY KEY CHECK (id = 1),
                       version bigint NOT NULL)""")
    op.execute(f"INSERT INTO {S}.index_state VALUES (1, 0)")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.index_state")
    op.execute(f"ALTER INDEX {S}.documents_tsv RESET (fastupdate)")
    op.execute(f"DROP INDEX {S}.documents_record_walk")
    op.execute(f"ALTER TABLE {S}.documents DROP COLUMN static_rank")
