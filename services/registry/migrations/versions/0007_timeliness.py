"""Timeliness: each dataset's grace period, the reminders sent (once: a unique key per
publisher, dataset, period and stage), their deliveries per channel, and publishers' e-mail.

No column is added to datasets: a dataset without a row here uses the default grace period of
its frequency.

Revision ID: 0007
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.dataset_schedules (
        dataset_id bigint PRIMARY KEY REFERENCES {S}.datasets(id),
        grace_days int NOT NULL CHECK (grace_days BETWEEN 0 AND 366),
        updated_by text,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""
    CREATE TABLE {S}.reminders (
        id uuid PRIMARY KEY,
        publisher_id text NOT NULL REFERENCES {S}.publishers(id),
        dataset_id bigint NOT NULL REFERENCES {S}.datasets(id),
        period text NOT NULL,
        stage text NOT NULL,            -- before_7d, before_1d, overdue
        due_at timestamptz NOT NULL,
        payload jsonb NOT NULL,         -- the ReminderDueV1 event as sent on NATS
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (publisher_id, dataset_id, period, stage)
    )""")
    op.execute(f"""
    CREATE TABLE {S}.reminder_deliveries (
        id uuid PRIMARY KEY,            -- the webhook-id: the same on every retry
        reminder_id uuid NOT NULL REFERENCES {S}.reminders(id),
        channel text NOT NULL CHECK (channel IN ('webhook', 'email')),
        target text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        sent_at timestamptz,
        UNIQUE (reminder_id, channel, target)
    )""")
    op.execute(f"""CREATE INDEX reminder_deliveries_due ON {S}.reminder_deliveries
                   (next_attempt_at) WHERE status = 'pending'""")
    op.execute(f"""
    CREATE TABLE {S}.publisher_contacts (
        publisher_id text PRIMARY KEY REFERENCES {S}.publishers(id),
        email text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")


def downgrade() -> None:
    for table in ("publisher_contacts", "reminder_deliveries", "reminders", "dataset_schedules"):
        op.execute(f"DROP TABLE {S}.{table}")
