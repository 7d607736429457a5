"""Stewardship: alias review, key lookups, and indexes for conflicts, aggregates, completeness.

Revision ID: 0002
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    # Who approved or refused an operator's alias, and when.
    op.execute(f"ALTER TABLE {S}.region_aliases ADD COLUMN reviewed_by text")
    op.execute(f"ALTER TABLE {S}.region_aliases ADD COLUMN reviewed_at timestamptz")
    op.execute(f"CREATE INDEX region_aliases_status ON {S}.region_aliases (status, id)")
    op.execute(f"CREATE INDEX regions_level ON {S}.regions (level)")
    op.execute(f"CREATE INDEX api_keys_publisher ON {S}.api_keys (publisher_id)")
    # The conflict queue, newest first, per status (all datasets) ...
    op.execute(f"CREATE INDEX conflicts_status_created ON {S}.conflicts (status, created_at DESC)")
    # ... and "is this record in conflict", for completeness.
    op.execute(f"CREATE INDEX conflicts_open_record ON {S}.conflicts (record_id) "
               "WHERE status = 'open'")
    # Aggregates and completeness read one dataset + period's records through 0001's
    # records_dataset_period (dataset_id, period, region_code); no further index on records, so
    # the submission hot path keeps paying for the same indexes as before.


def downgrade() -> None:
    for index in ("conflicts_open_record",
                  "conflicts_status_created", "api_keys_publisher", "regions_level",
                  "region_aliases_status"):
        op.execute(f"DROP INDEX IF EXISTS {S}.{index}")
    op.execute(f"ALTER TABLE {S}.region_aliases DROP COLUMN reviewed_at")
    op.execute(f"ALTER TABLE {S}.region_aliases DROP COLUMN reviewed_by")
