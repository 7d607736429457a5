"""Outlier checks served by the records' own key (goal 6 "speed kept").

The record key's unique index was (dataset_id, region_code, period, dims_key), and migration
0006 added (dataset_id, dims_key, period, region_code) for the outlier checks. Neither served a
region's earlier periods of one item (the history): found by scanning every region's entry of
each earlier period (~600 index entries per changed row at 200,000 records), and the extra
index cost every changed row a write. Together that cost a chunk 35-55 % of its apply rate.

The key's unique index now orders its columns (dataset_id, dims_key, region_code, period):
- the history of one key (same item and region, earlier periods) is one contiguous range;
- the peers (same item and period, other regions) are one range read region by region,
  the period checked in the index, until the sample is full;
- every lookup by the whole key (classification, ON CONFLICT, rules' siblings) is unchanged,
  and lookups by period and region keep records_dataset_period.
So the checks add no index to write: 0006's is dropped.

Revision ID: 0009
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"DROP INDEX {S}.records_dataset_dims_period")
    op.execute(f"ALTER TABLE {S}.records ADD CONSTRAINT "
               "records_dataset_id_dims_key_region_code_period_key "
               "UNIQUE (dataset_id, dims_key, region_code, period)")
    op.execute(f"ALTER TABLE {S}.records DROP CONSTRAINT "
               "records_dataset_id_region_code_period_dims_key_key")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.records ADD CONSTRAINT "
               "records_dataset_id_region_code_period_dims_key_key "
               "UNIQUE (dataset_id, region_code, period, dims_key)")
    op.execute(f"ALTER TABLE {S}.records DROP CONSTRAINT "
               "records_dataset_id_dims_key_region_code_period_key")
    op.execute(f"CREATE INDEX records_dataset_dims_period ON {S}.records "
               "(dataset_id, dims_key, period, region_code)")
