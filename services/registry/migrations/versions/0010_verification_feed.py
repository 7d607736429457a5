"""Verification on the change feed: a value held, returned, verified or superseded is an entry
of ``GET /v1/changes`` (and so of the SSE stream), in the same order as record versions (its
``seq`` comes from ``record_seq``), so a consumer resuming from its stored ``next`` sees the mark
"sedang diverifikasi" come and go. Append-only; never the held value itself, which is not public.

Revision ID: 0010
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.verification_events (
        seq bigint PRIMARY KEY DEFAULT nextval('{S}.record_seq'),
        held_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('held', 'returned', 'verified', 'superseded')),
        dataset_id bigint NOT NULL REFERENCES {S}.datasets (id),
        record_id uuid,
        region_code text NOT NULL,
        period text NOT NULL,
        dims jsonb NOT NULL DEFAULT '{{}}',
        publisher_id text NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
    )""")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.verification_events")
