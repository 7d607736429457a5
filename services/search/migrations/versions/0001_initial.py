"""Search schema: copies of registry regions/datasets/records, the documents index, vocabulary.

Revision ID: 0001
"""
from alembic import op

from shared.db import outbox_ddl

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

S = "search"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    for ddl in outbox_ddl(S):
        op.execute(ddl)
    # Search's own copies of what the registry announced; documents are built from these, so
    # events may arrive in any order and a rebuild gives the same documents.
    op.execute(f"""
    CREATE TABLE {S}.regions (
        code text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        level text NOT NULL,
        parent_code text,
        path_codes text[] NOT NULL DEFAULT '{{}}',
        path_names text[] NOT NULL DEFAULT '{{}}',
        aliases text[] NOT NULL DEFAULT '{{}}',
        version int NOT NULL,
        valid_until text,
        -- derived from the ancestors present in this table (recomputed when regions change)
        ancestry_text text NOT NULL DEFAULT '',     -- names and aliases, kabupaten first
        ancestry_names text NOT NULL DEFAULT '',    -- names only (for snippets)
        kecamatan_code text,
        kecamatan_name text
    )""")
    op.execute(f"""
    CREATE TABLE {S}.datasets (
        slug text COLLATE "C" PRIMARY KEY,
        title text NOT NULL,
        topic text,
        publisher text,
        payload jsonb NOT NULL,           -- the DatasetV1 as announced
        version int NOT NULL
    )""")
    op.execute(f"""
    CREATE TABLE {S}.records (
        record_id uuid PRIMARY KEY,
        dataset text NOT NULL,
        region_code text COLLATE "C" NOT NULL,
        period text COLLATE "C" NOT NULL,
        dimensions jsonb NOT NULL DEFAULT '{{}}',
        "values" jsonb NOT NULL DEFAULT '{{}}',
        version int NOT NULL,
        status text NOT NULL,
        publisher_id text,
        changed_at timestamptz NOT NULL
    )""")
    op.execute(f"CREATE INDEX records_dataset ON {S}.records (dataset)")
    op.execute(f"CREATE INDEX records_region ON {S}.records (region_code)")
    op.execute(f"""
    CREATE TABLE {S}.documents (
        doc_id text COLLATE "C" PRIMARY KEY,   -- dataset:<slug>, region:<code>, record:<uuid>
        kind text NOT NULL CHECK (kind IN ('dataset','region','record')),
        ref text NOT NULL,
        version int NOT NULL,
        title text NOT NULL,
        name text,                             -- region/dataset name, for trigram matching
        aliases text[] NOT NULL DEFAULT '{{}}',
        body text NOT NULL,                    -- what snippets are cut from
        tsv tsvector NOT NULL,
        dataset text,
        topic text,
        publisher text,
        region_code text COLLATE "C",
        region_name text,
        kecamatan_code text,
        kecamatan_name text,
        period text COLLATE "C",
        "values" jsonb,
        -- set on first insert only: a cursor walk hides documents created after it began
        created_seq bigserial NOT NULL,
        indexed_at timestamptz NOT NULL DEFAULT clock_timestamp()
    )""")
    op.execute(f"CREATE INDEX documents_tsv ON {S}.documents USING gin (tsv)")
    op.execute(f"""CREATE INDEX documents_name_trgm ON {S}.documents
                   USING gin (name gin_trgm_ops) WHERE kind <> 'record'""")
    op.execute(f"CREATE INDEX documents_region ON {S}.documents (region_code)")
    op.execute(f"CREATE INDEX documents_dataset ON {S}.documents (dataset, period)")
    op.execute(f"CREATE INDEX documents_created_seq ON {S}.documents (created_seq)")
    # Indonesian stems (so "pembangunan" meets "bangun") and the words as written (for prefix
    # matching while typing), weighted A..D by where in the document they stand.
    op.execute(f"""
    CREATE FUNCTION {S}.weighted_tsv(a text, b text, c text, d text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT setweight(to_tsvector('indonesian', coalesce(a, '')) || to_tsvector('simple', coalesce(a, '')), 'A')
          || setweight(to_tsvector('indonesian', coalesce(b, '')) || to_tsvector('simple', coalesce(b, '')), 'B')
          || setweight(to_tsvector('indonesian', coalesce(c, '')) || to_tsvector('simple', coalesce(c, '')), 'C')
          || setweight(to_tsvector('indonesian', coalesce(d, '')) || to_tsvector('simple', coalesce(d, '')), 'D')
    $$""")
    # Words of region and dataset names: what a misspelt query word is corrected against.
    op.execute(f"CREATE TABLE {S}.vocabulary (word text PRIMARY KEY)")
    op.execute(f"CREATE INDEX vocabulary_trgm ON {S}.vocabulary USING gin (word gin_trgm_ops)")


def downgrade() -> None:
    op.execute(f"DROP SCHEMA {S} CASCADE")
