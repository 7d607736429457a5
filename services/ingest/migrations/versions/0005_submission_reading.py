"""How a submission's numbers and lines are read (``locale``, ``sheet``) kept with the
submission, so every send of its chunk events, the first and any re-send by the reconciler,
is built from the same stored facts (the re-send used to omit both: an ``en`` submission
re-sent after an outage was read as Indonesian, ``1,234`` as 1.234).

Submissions still on their way take what their first event carried, from the outbox.

Revision ID: 0005
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "ingest"


def upgrade() -> None:
    op.execute(f"ALTER TABLE {S}.submissions ADD COLUMN locale text NOT NULL DEFAULT 'id'")
    op.execute(f"ALTER TABLE {S}.submissions ADD COLUMN sheet text")
    op.execute(f"""
        UPDATE {S}.submissions s
        SET locale = coalesce(o.payload -> 'data' ->> 'locale', 'id'),
            sheet = o.payload -> 'data' ->> 'sheet'
        FROM {S}.submission_chunks c JOIN {S}.outbox o ON o.event_id = c.event_id
        WHERE c.submission_id = s.id AND c.chunk = 0""")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {S}.submissions DROP COLUMN sheet")
    op.execute(f"ALTER TABLE {S}.submissions DROP COLUMN locale")
