"""Region boundaries (GeoJSON geometry) with the dates they hold between, their source,
whether they are generated sample polygons, and the hash of what is stored: the portal's maps.

Revision ID: 0019
"""
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.region_boundaries (
        id bigserial PRIMARY KEY,
        region_code text NOT NULL REFERENCES {S}.regions (code),
        valid_from date,
        valid_until date,
        geometry jsonb NOT NULL,
        source text NOT NULL,
        sample boolean NOT NULL,
        hash text NOT NULL,
        loaded_by text NOT NULL,
        loaded_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"CREATE INDEX region_boundaries_region ON {S}.region_boundaries (region_code)")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.region_boundaries")
