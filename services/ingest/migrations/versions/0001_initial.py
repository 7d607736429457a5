"""Ingest schema: submissions as received, their chunks and import summaries, outbox, inbox.

Revision ID: 0001
"""
from alembic import op

from shared.db import outbox_ddl

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "ingest"


def upgrade() -> None:
    for ddl in outbox_ddl(S):
        op.execute(ddl)
    op.execute(f"""
    CREATE TABLE {S}.submissions (
        id uuid PRIMARY KEY,
        publisher_id text NOT NULL,
        key_id text NOT NULL,
        dataset text NOT NULL,
        source text NOT NULL CHECK (source IN ('json','csv','xlsx','ckan')),
        filename text,
        status text NOT NULL DEFAULT 'received'
            CHECK (status IN ('received','processing','completed','failed')),
        rows int NOT NULL DEFAULT 0,
        chunks int NOT NULL DEFAULT 0,
        idempotency_key text,          -- per publisher; a retry returns this submission
        content_hash text,             -- sha256 of dataset + mapped rows, to tell retries apart
        warnings jsonb NOT NULL DEFAULT '[]',
        request_id text,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"CREATE UNIQUE INDEX submissions_idempotency ON {S}.submissions "
               "(publisher_id, idempotency_key) WHERE idempotency_key IS NOT NULL")
    op.execute(f"CREATE INDEX submissions_by_publisher ON {S}.submissions "
               "(publisher_id, created_at DESC, id DESC)")
    op.execute(f"""
    CREATE TABLE {S}.submission_rows (
        submission_id uuid NOT NULL REFERENCES {S}.submissions(id) ON DELETE CASCADE,
        idx int NOT NULL,              -- index in the whole submission, from 0
        chunk int NOT NULL,
        row jsonb NOT NULL,
        PRIMARY KEY (submission_id, idx)
    )""")
    op.execute(f"""
    CREATE TABLE {S}.submission_chunks (
        submission_id uuid NOT NULL REFERENCES {S}.submissions(id) ON DELETE CASCADE,
        chunk int NOT NULL,
        row_offset int NOT NULL,
        rows int NOT NULL,
        event_id uuid NOT NULL UNIQUE,  -- the outbox event, Nats-Msg-Id
        processed_at timestamptz,
        created int NOT NULL DEFAULT 0,
        updated int NOT NULL DEFAULT 0,
        unchanged int NOT NULL DEFAULT 0,
        conflicts int NOT NULL DEFAULT 0,
        rejected int NOT NULL DEFAULT 0,
        rejected_rows jsonb NOT NULL DEFAULT '[]',
        error text,
        PRIMARY KEY (submission_id, chunk)
    )""")


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {S} CASCADE")
