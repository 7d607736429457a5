"""Browsing one dataset in one kecamatan walks an index in static rank.

An empty query with a dataset and a kecamatan filter (the portal's "this dataset, my
kecamatan") read every record of both (2,512 of "produksi-padi" in one kecamatan at 1,000,000
records, their heap pages scattered: 1.8 ms) to keep the 20 of highest static rank. Its count
comes from the record cells (migration 0018), so the page was all that read them. This index
holds them in that order: the first page reads its 20 entries and their rows (0.08 ms).
A record's kecamatan is the one its region's code lies under (store.refresh_region_ancestry),
as the cells count it. Without doc_id (the tie-break is sorted within equal ranks: a period's
records share one) it is 48 MB at 1,000,000 records, not 99; one btree entry per record more
for indexing to write.

Revision ID: 0019
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

S = "search"


def upgrade() -> None:
    op.execute(f"""CREATE INDEX documents_dataset_kecamatan_walk ON {S}.documents
                   (dataset, kecamatan_code, static_rank DESC) WHERE kind = 'record'""")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.documents_dataset_kecamatan_walk")
