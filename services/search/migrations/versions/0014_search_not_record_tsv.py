"""Regions and datasets matched by index. Every counting statement matches the query against
the documents that are not records (regions and datasets: ~170 in Kutai Timur) by their words
or a near name: `kind <> 'record' AND (tsv @@ q OR name % text)`. The only index for the words
was the one over every document, whose postings of a common word are a million records, so
each of the ~170 was tested row by row (the trigram test ~2 us each): 0.45 ms of every answer
at 1,000,000 records. A tsvector index of those documents alone lets the planner OR it with
the trigram index of their names (`documents_name_trgm`) and test only what either finds:
0.04 ms. Indexing records never writes to it (its predicate leaves them out).

Revision ID: 0014
"""
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

S = "search"


def upgrade() -> None:
    op.execute(f"CREATE INDEX documents_not_record_tsv ON {S}.documents USING gin (tsv) "
               f"WHERE kind <> 'record'")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.documents_not_record_tsv")
