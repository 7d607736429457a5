"""BPS statistical metadata (MS-Kegiatan, MS-Variabel, MS-Indikator): every version of a
dataset's forms, reviewed by the walidata (held, returned with a note, verified), with the
hash of what is stored. The Perpres 39 keys each dataset already carries map onto the new
fields, by one database function used twice: here, as the first version (verified) of every
existing dataset, and by a trigger for every dataset created after (the walidata who creates
a dataset states those keys):

  judul <- title; jenis_statistik <- 'sektoral' (an agency's statistics, UU 16/1997);
  penyelenggara <- produsen_data; walidata <- walidata; and per measure an MS-Indikator with
  nama <- its label, konsep, definisi, satuan (or the measure's unit), ukuran,
  klasifikasi_penyajian <- klasifikasi, frekuensi <- the dataset's frequency in Indonesian.

Revision ID: 0017
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

S = "registry"


def upgrade() -> None:
    op.execute(f"""
    CREATE TABLE {S}.statistical_metadata (
        dataset_id bigint NOT NULL REFERENCES {S}.datasets (id),
        version integer NOT NULL,
        document jsonb NOT NULL,
        hash text NOT NULL,
        status text NOT NULL,
        note text,
        submitted_by text NOT NULL,
        submitted_at timestamptz NOT NULL DEFAULT now(),
        decided_by text,
        decided_at timestamptz,
        PRIMARY KEY (dataset_id, version),
        CONSTRAINT statistical_metadata_status_check
            CHECK (status IN ('held', 'verified', 'returned', 'superseded'))
    )""")
    op.execute(f"""CREATE INDEX statistical_metadata_verified ON {S}.statistical_metadata
                   (dataset_id, version DESC) WHERE status = 'verified'""")
    op.execute(f"""
    CREATE FUNCTION {S}.perpres_statistical_metadata(title text, frequency text, meta jsonb,
                                                      schema jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE AS $$
      SELECT jsonb_build_object(
        'kegiatan', jsonb_strip_nulls(jsonb_build_object(
          'judul', title, 'jenis_statistik', 'sektoral',
          'penyelenggara', meta->>'produsen_data', 'walidata', meta->>'walidata')),
        'measures', coalesce((
          SELECT jsonb_object_agg(m->>'name', jsonb_strip_nulls(jsonb_build_object(
            'jenis', 'indikator', 'nama', coalesce(m->>'label', m->>'name'),
            'konsep', meta->>'konsep', 'definisi', meta->>'definisi',
            'satuan', coalesce(meta->>'satuan', m->>'unit'), 'ukuran', meta->>'ukuran',
            'klasifikasi_penyajian', meta->>'klasifikasi',
            'frekuensi', CASE frequency WHEN 'annual' THEN 'tahunan'
                                        WHEN 'semester' THEN 'semesteran'
                                        WHEN 'quarterly' THEN 'triwulanan'
                                        WHEN 'monthly' THEN 'bulanan' ELSE frequency END)))
          FROM jsonb_array_elements(schema->'measures') m), '{{}}'::jsonb))
    $$""")
    op.execute(f"""
    CREATE FUNCTION {S}.statistical_metadata_first() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO {S}.statistical_metadata (dataset_id, version, document, hash, status, note,
                                            submitted_by, decided_by, decided_at)
      SELECT NEW.id, 1, doc, encode(sha256(convert_to(doc::text, 'UTF8')), 'hex'), 'verified',
             'dari metadata Perpres 39 saat dataset dibuat', 'walidata', 'walidata', now()
      FROM (SELECT {S}.perpres_statistical_metadata(NEW.title, NEW.frequency, NEW.metadata,
                                                   NEW.schema) AS doc) s;
      RETURN NULL;
    END $$""")
    op.execute(f"""CREATE TRIGGER datasets_statistical_metadata AFTER INSERT ON {S}.datasets
                   FOR EACH ROW EXECUTE FUNCTION {S}.statistical_metadata_first()""")
    op.execute(f"""
    INSERT INTO {S}.statistical_metadata (dataset_id, version, document, hash, status, note,
                                          submitted_by, decided_by, decided_at)
    SELECT id, 1, doc, encode(sha256(convert_to(doc::text, 'UTF8')), 'hex'), 'verified',
           'dipetakan dari metadata Perpres 39 (migrasi 0017)', 'migrasi', 'migrasi', now()
    FROM (SELECT id, {S}.perpres_statistical_metadata(title, frequency, metadata, schema) AS doc
          FROM {S}.datasets) s""")


def downgrade() -> None:
    op.execute(f"DROP TRIGGER datasets_statistical_metadata ON {S}.datasets")
    op.execute(f"DROP FUNCTION {S}.statistical_metadata_first()")
    op.execute(f"DROP FUNCTION {S}.perpres_statistical_metadata(text, text, jsonb, jsonb)")
    op.execute(f"DROP TABLE {S}.statistical_metadata")
