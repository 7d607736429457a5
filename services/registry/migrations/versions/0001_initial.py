"""Registry schema: regions, publishers and keys, datasets, master records with history.

Revision ID: 0001
"""
from alembic import op

from shared.db import outbox_ddl

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    for ddl in outbox_ddl(S):
        op.execute(ddl)
    op.execute(f"""
    CREATE TABLE {S}.regions (
        code text PRIMARY KEY,
        name text NOT NULL,
        level text NOT NULL CHECK (level IN ('provinsi','kabupaten','kecamatan','desa','kelurahan')),
        parent_code text,
        path text[] NOT NULL,              -- codes from the kabupaten down to this region
        valid_from date,
        valid_until date,                  -- set when a code is retired
        successor_code text REFERENCES {S}.regions(code),
        version int NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"CREATE INDEX regions_parent ON {S}.regions (parent_code)")
    op.execute(f"CREATE INDEX regions_path ON {S}.regions USING gin (path)")
    op.execute(f"""
    CREATE TABLE {S}.region_aliases (
        id bigserial PRIMARY KEY,
        region_code text NOT NULL REFERENCES {S}.regions(code),
        kind text NOT NULL CHECK (kind IN ('bps_code','spelling','former_name','former_code')),
        alias text NOT NULL,
        alias_norm text NOT NULL,
        source text NOT NULL,
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active','pending','refused')),
        note text,
        valid_from date,
        valid_until date,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (kind, alias_norm, region_code)
    )""")
    op.execute(f"CREATE INDEX region_aliases_norm ON {S}.region_aliases (alias_norm)")
    op.execute(f"""
    CREATE TABLE {S}.publishers (
        id text PRIMARY KEY,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('desa','kecamatan','opd','walidata')),
        region_scope text NOT NULL REFERENCES {S}.regions(code),
        datasets text[] NOT NULL DEFAULT '{{}}',
        created_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""
    CREATE TABLE {S}.api_keys (
        id text PRIMARY KEY,
        publisher_id text NOT NULL REFERENCES {S}.publishers(id),
        role text NOT NULL CHECK (role IN ('publisher','walidata','admin')),
        key_hash text NOT NULL UNIQUE,
        label text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz
    )""")
    op.execute(f"""
    CREATE TABLE {S}.datasets (
        id bigserial PRIMARY KEY,
        slug text NOT NULL UNIQUE,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        frequency text NOT NULL CHECK (frequency IN ('annual','semester','quarterly','monthly')),
        topic text,
        tags text[] NOT NULL DEFAULT '{{}}',
        license text NOT NULL DEFAULT 'CC-BY-4.0',
        metadata jsonb NOT NULL DEFAULT '{{}}',     -- Satu Data Indonesia metadata
        schema jsonb NOT NULL,                      -- dimensions and measures
        authoritative text[] NOT NULL DEFAULT '{{}}', -- publisher ids whose values win
        version int NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )""")
    op.execute(f"""
    CREATE TABLE {S}.records (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        dataset_id bigint NOT NULL REFERENCES {S}.datasets(id),
        region_code text NOT NULL REFERENCES {S}.regions(code),
        period text NOT NULL,
        dims jsonb NOT NULL DEFAULT '{{}}',
        dims_key text NOT NULL DEFAULT '',
        vals jsonb NOT NULL,
        version int NOT NULL DEFAULT 1,
        status text NOT NULL DEFAULT 'current' CHECK (status IN ('current','retracted')),
        publisher_id text NOT NULL,
        submission_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        seq bigint NOT NULL,                 -- global change sequence, for feeds
        UNIQUE (dataset_id, region_code, period, dims_key)
    )""")
    op.execute(f"CREATE SEQUENCE {S}.record_seq")
    op.execute(f"ALTER TABLE {S}.records ALTER seq SET DEFAULT nextval('{S}.record_seq')")
    op.execute(f"CREATE INDEX records_dataset_period ON {S}.records (dataset_id, period, region_code)")
    op.execute(f"CREATE INDEX records_seq ON {S}.records (seq)")
    op.execute(f"""
    CREATE TABLE {S}.record_versions (
        record_id uuid NOT NULL REFERENCES {S}.records(id),
        version int NOT NULL,
        vals jsonb NOT NULL,
        status text NOT NULL DEFAULT 'current',
        publisher_id text NOT NULL,
        submission_id uuid,
        conflict_id uuid,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        seq bigint NOT NULL,                 -- same sequence as records.seq: the change feed
        PRIMARY KEY (record_id, version)
    )""")
    op.execute(f"CREATE UNIQUE INDEX record_versions_seq ON {S}.record_versions (seq)")
    op.execute(f"""
    CREATE TABLE {S}.conflicts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        record_id uuid NOT NULL REFERENCES {S}.records(id),
        dataset_id bigint NOT NULL REFERENCES {S}.datasets(id),
        base_version int NOT NULL,
        current_vals jsonb NOT NULL,
        current_publisher text NOT NULL,
        proposed_vals jsonb NOT NULL,
        proposed_publisher text NOT NULL,
        submission_id uuid,
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','accepted','rejected','superseded')),
        created_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolved_by text,
        resolution_note text
    )""")
    op.execute(f"""CREATE UNIQUE INDEX conflicts_open_one ON {S}.conflicts
                   (record_id, proposed_publisher) WHERE status = 'open'""")
    op.execute(f"CREATE INDEX conflicts_dataset ON {S}.conflicts (dataset_id, status)")


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {S} CASCADE")
