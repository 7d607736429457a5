"""Checked before it is published: validation rules per dataset, a publication
policy per dataset, and held values, each a pending proposal like a conflict: the master record
keeps its last verified value until the walidata verifies (or returns) the held one.

Revision ID: 0006
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.verification_policies (
        dataset_id bigint PRIMARY KEY REFERENCES {S}.datasets(id),
        policy text NOT NULL DEFAULT 'langsung' CHECK (policy IN ('langsung','verifikasi')),
        outliers boolean NOT NULL DEFAULT true,
        outlier_z numeric NOT NULL DEFAULT 3.5 CHECK (outlier_z > 0),
        min_history int NOT NULL DEFAULT 4 CHECK (min_history >= 2),
        min_peers int NOT NULL DEFAULT 10 CHECK (min_peers >= 3),
        updated_by text,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""
    CREATE TABLE {S}.validation_rules (
        id bigserial PRIMARY KEY,
        dataset_id bigint NOT NULL REFERENCES {S}.datasets(id),
        expression text NOT NULL,
        importance text NOT NULL CHECK (importance IN ('tinggi','sedang','rendah')),
        message text NOT NULL,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"CREATE INDEX validation_rules_dataset ON {S}.validation_rules (dataset_id, id)")
    op.execute(f"""
    CREATE TABLE {S}.held_values (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        dataset_id bigint NOT NULL REFERENCES {S}.datasets(id),
        record_id uuid,  -- the master record, when the key exists (no foreign key: a
                         -- proposal never blocks what is done to records)
        region_code text NOT NULL REFERENCES {S}.regions(code),
        period text NOT NULL,
        dims jsonb NOT NULL DEFAULT '{{}}',
        dims_key text NOT NULL DEFAULT '',
        vals jsonb NOT NULL,                         -- the proposal
        base_vals jsonb,                             -- what the public kept seeing meanwhile
        publisher_id text NOT NULL,
        submission_id uuid,
        line int,
        sheet text,
        reasons jsonb NOT NULL,                      -- rules, outliers (expected range), policy
        status text NOT NULL DEFAULT 'held'
            CHECK (status IN ('held','verified','returned','superseded')),
        note text,
        decided_by text,
        decided_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""CREATE UNIQUE INDEX held_values_open_one ON {S}.held_values
                   (dataset_id, region_code, period, dims_key, publisher_id)
                   WHERE status = 'held'""")
    op.execute(f"CREATE INDEX held_values_queue ON {S}.held_values (status, created_at, id)")
    op.execute(f"CREATE INDEX held_values_record ON {S}.held_values (record_id)")
    op.execute(f"CREATE INDEX held_values_submission ON {S}.held_values (submission_id)")
    # Outlier checks read, per staged row, the same item (dims_key) in other periods of its
    # region (history) or in other regions of its period (peers). The existing indexes lead
    # with the region, then the period: a history lookup skip-scanned every earlier period
    # and a peer lookup read a whole period. This one answers both from one range.
    op.execute(f"CREATE INDEX records_dataset_dims_period ON {S}.records "
               "(dataset_id, dims_key, period, region_code)")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.records_dataset_dims_period")
    for table in ("held_values", "validation_rules", "verification_policies"):
        op.execute(f"DROP TABLE {S}.{table}")
