"""Regions that change: each split, merge, code change, move, rename or creation is an event
with its date and decree (``region_changes``), and ``period_end`` gives the last day of a period
so set-based readers count the regions valid in each period (a region is in a period when it
is valid on the period's last day: docs/registry.md, "Regions that change").

Revision ID: 0012
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.region_changes (
        id bigserial PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('split', 'merge', 'code_change', 'move', 'rename',
                                           'creation')),
        effective date,
        from_codes text[] NOT NULL DEFAULT '{{}}',
        to_codes text[] NOT NULL DEFAULT '{{}}',
        decree_number text,
        decree_date date,
        note text,
        source text NOT NULL,
        sample boolean NOT NULL DEFAULT false,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"CREATE INDEX region_changes_from ON {S}.region_changes USING gin (from_codes)")
    op.execute(f"CREATE INDEX region_changes_to ON {S}.region_changes USING gin (to_codes)")
    # The last day of a period in any frequency's format (2024, 2024-S1, 2024-Q3, 2024-07).
    op.execute(f"""
    CREATE FUNCTION {S}.period_end(p text) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT (make_date(left(p, 4)::int,
                        CASE WHEN p ~ '^[0-9]{{4}}$' THEN 12
                             WHEN p ~ '^[0-9]{{4}}-S[12]$' THEN right(p, 1)::int * 6
                             WHEN p ~ '^[0-9]{{4}}-Q[1-4]$' THEN right(p, 1)::int * 3
                             ELSE substr(p, 6, 2)::int END, 1)
              + interval '1 month' - interval '1 day')::date
    $$""")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {S}.period_end(text)")
    op.execute(f"DROP TABLE {S}.region_changes")
