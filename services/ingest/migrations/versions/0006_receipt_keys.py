"""The public key of every key that signed a receipt, kept with the receipts: a backup then
carries what proves its receipts, and a platform restored into a fresh data folder (a new
signing key) still lists the old key at ``/.well-known/satudata-keys.json``. An index on the
receipts' key lets ingest register, at its start, the keys its files know that signed receipts
before this table existed.

Revision ID: 0006
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "ingest"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.receipt_keys (
        kid text PRIMARY KEY,
        jwk jsonb NOT NULL,
        first_signed_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"CREATE INDEX receipts_key_id ON {S}.receipts (key_id)")


def downgrade() -> None:
    op.execute(f"DROP INDEX {S}.receipts_key_id")
    op.execute(f"DROP TABLE {S}.receipt_keys")
