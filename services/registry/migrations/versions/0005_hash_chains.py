"""Tamper-evident history: every record version carries a SHA-256 chaining to the previous
version of the same record (``records.hash`` holds the newest, so applying a chunk computes
the next link inside its own INSERT ... ON CONFLICT, per record, with no lock shared between
records); an audit log of every privileged action, chained the same way (one chain).

The link functions live in the database so the apply SQL and ``satudata verify`` compute
exactly the same bytes: sha256(previous hash || UTF-8 of a JSON array of the fields). Times
enter as integer microseconds since the epoch, so the session's time zone never matters.

Revision ID: 0005
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "registry"

VERSION_HASH = f"""
CREATE OR REPLACE FUNCTION {S}.version_hash(
    prev bytea, record_id uuid, dataset_id bigint, region_code text, period text,
    dims_key text, version int, vals jsonb, status text, publisher_id text,
    submission_id uuid, conflict_id uuid, reason text, recorded_at timestamptz)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(coalesce(prev, ''::bytea) || convert_to(jsonb_build_array(
      record_id, dataset_id, region_code, period, dims_key, version, vals, status,
      publisher_id, submission_id, conflict_id, reason,
      (extract(epoch FROM recorded_at) * 1000000)::bigint)::text, 'UTF8'))
$$"""

AUDIT_HASH = f"""
CREATE OR REPLACE FUNCTION {S}.audit_hash(
    prev bytea, id bigint, at timestamptz, actor text, key_id text, role text, action text,
    target text, details jsonb, client_addr text, request_id text)
RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(coalesce(prev, ''::bytea) || convert_to(jsonb_build_array(
      id, (extract(epoch FROM at) * 1000000)::bigint, actor, key_id, role, action, target,
      details, client_addr, request_id)::text, 'UTF8'))
$$"""

# existing history gets its links once, one version number at a time (each needs the last)
BACKFILL = f"""
DO $$
DECLARE v int; top int;
BEGIN
  SELECT coalesce(max(version), 0) INTO top FROM {S}.record_versions;
  FOR v IN 1..top LOOP
    UPDATE {S}.record_versions x SET hash = {S}.version_hash(
        (SELECT p.hash FROM {S}.record_versions p
         WHERE p.record_id = x.record_id AND p.version = v - 1),
        x.record_id, r.dataset_id, r.region_code, r.period, r.dims_key, x.version, x.vals,
        x.status, x.publisher_id, x.submission_id, x.conflict_id, x.reason, x.recorded_at)
    FROM {S}.records r WHERE r.id = x.record_id AND x.version = v;
  END LOOP;
  UPDATE {S}.records r SET hash = x.hash FROM {S}.record_versions x
  WHERE x.record_id = r.id AND x.version = r.version;
END $$"""


def upgrade() -> None:
    op.execute(VERSION_HASH)
    op.execute(AUDIT_HASH)
    op.execute(f"ALTER TABLE {S}.records ADD COLUMN hash bytea")
    op.execute(f"ALTER TABLE {S}.record_versions ADD COLUMN hash bytea")
    op.execute(BACKFILL)
    op.execute(f"""
    CREATE TABLE {S}.audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        actor text NOT NULL,          -- the publisher id of the key used (walidata, admin...)
        key_id text,
        role text,
        action text NOT NULL,         -- e.g. key.revoke, dataset.update, conflict.accept
        target text,                  -- what it was done to: a key id, a slug, a conflict id
        details jsonb NOT NULL DEFAULT '{{}}',
        client_addr text,             -- as the gateway forwarded it inside the signed call
        request_id text,
        prev_hash bytea,
        hash bytea NOT NULL
    )""")
    op.execute(f"CREATE INDEX audit_log_action ON {S}.audit_log (action, id)")


def downgrade() -> None:
    op.execute(f"DROP TABLE {S}.audit_log")
    op.execute(f"ALTER TABLE {S}.record_versions DROP COLUMN hash")
    op.execute(f"ALTER TABLE {S}.records DROP COLUMN hash")
    op.execute(f"DROP FUNCTION {S}.audit_hash")
    op.execute(f"DROP FUNCTION {S}.version_hash")
