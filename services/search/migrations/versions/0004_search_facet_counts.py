"""Counts per word kept by the indexer: a one-word query's total and facets without reading
its matches.

- facet_counts (term, facet, value) -> n: how many record documents hold `term` and have that
  facet value. A term is a lexeme of a document's tsvector (numbers other than years are left
  out: values and codes would multiply the table for words nobody counts) or a concept (below).
  Kept by statement triggers on documents, set-based from their transition tables, in the
  indexing transaction itself: the live index and a rebuild hold the same counts.
- count_concepts: the lexemes one typed word stands for together (a synonym set with the
  ke-...-an forms, services/search/query_text.py). A document holding any of them counts once
  under the concept, so "penduduk" (duduk | nduduk | warga | jiwa | populasi) is one lookup.

Revision ID: 0004
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "search"
# concept -> the words whose Indonesian stems it covers (query_text._alternatives of each word
# of a synonym set: the words, their ke-...-an forms, the synonyms)
CONCEPTS = {
    "penduduk": "jiwa kejiwaan kependudukan kepopulasian kewargaan penduduk populasi warga",
    "laki": "kelakian kelelakian kepriaan laki lelaki pria",
    "perempuan": "kewanitaan perempuan wanita",
    "sekolah": "kesekolahan sd sekolah sma smp",
    "puskesmas": "kepuskesmasan pkm puskesmas",
}

DELTA = """
    INSERT INTO {s}.facet_counts AS f (term, facet, value, n)
    SELECT t.term, x.facet, x.value, sum(d.dn)
    FROM ({src}) d
    CROSS JOIN LATERAL {s}.doc_terms(d.tsv) t(term)
    CROSS JOIN LATERAL (VALUES ('kind', d.kind), ('dataset', d.dataset), ('topic', d.topic),
                               ('publisher', d.publisher), ('kecamatan', d.kecamatan_code),
                               ('period', d.period)) x(facet, value)
    WHERE d.kind = 'record' AND x.value IS NOT NULL
    GROUP BY 1, 2, 3 HAVING sum(d.dn) <> 0
    ORDER BY 1, 2, 3   -- one lock order for concurrent indexing transactions
    ON CONFLICT (term, facet, value) DO UPDATE SET n = f.n + EXCLUDED.n"""
COLS = "tsv, kind, dataset, topic, publisher, kecamatan_code, period"


def upgrade() -> None:
    op.execute(f"""CREATE TABLE {S}.count_concepts (
                       lexeme text COLLATE "C" PRIMARY KEY,
                       concept text COLLATE "C" NOT NULL)""")
    for concept, words in CONCEPTS.items():
        op.execute(f"""INSERT INTO {S}.count_concepts
                       SELECT DISTINCT l, '~{concept}' FROM unnest(tsvector_to_array(
                           to_tsvector('indonesian', '{words}'))) l
                       ON CONFLICT DO NOTHING""")
    op.execute(f"""CREATE FUNCTION {S}.counted_term(t text) RETURNS boolean
                   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                     SELECT t !~ '^[-+0-9.,/]+$' OR t ~ '^(19|20)[0-9][0-9]$' $$""")
    op.execute(f"""CREATE FUNCTION {S}.doc_terms(v tsvector) RETURNS SETOF text
                   LANGUAGE sql STABLE PARALLEL SAFE AS $$
                     SELECT l FROM unnest(tsvector_to_array(v)) l WHERE {S}.counted_term(l)
                     UNION
                     SELECT c.concept FROM {S}.count_concepts c
                     WHERE c.lexeme = ANY(tsvector_to_array(v)) $$""")
    op.execute(f"""CREATE TABLE {S}.facet_counts (
                       term text COLLATE "C" NOT NULL,
                       facet text COLLATE "C" NOT NULL,
                       value text COLLATE "C" NOT NULL,
                       n bigint NOT NULL,
                       PRIMARY KEY (term, facet, value))""")
    ins = DELTA.format(s=S, src=f"SELECT {COLS}, 1 AS dn FROM new_docs")
    upd = DELTA.format(s=S, src=f"SELECT {COLS}, 1 AS dn FROM new_docs UNION ALL "
                                f"SELECT {COLS}, -1 FROM old_docs")
    dele = DELTA.format(s=S, src=f"SELECT {COLS}, -1 AS dn FROM old_docs")
    for name, body, tables, event in (
            ("ins", ins, "NEW TABLE AS new_docs", "INSERT"),
            ("upd", upd, "OLD TABLE AS old_docs NEW TABLE AS new_docs", "UPDATE"),
            ("del", dele, "OLD TABLE AS old_docs", "DELETE")):
        op.execute(f"""CREATE FUNCTION {S}.facet_counts_{name}() RETURNS trigger
                       LANGUAGE plpgsql AS $fn$ BEGIN {body}; RETURN NULL; END $fn$""")
        op.execute(f"""CREATE TRIGGER documents_counts_{name} AFTER {event} ON {S}.documents
                       REFERENCING {tables} FOR EACH STATEMENT
                       EXECUTE FUNCTION {S}.facet_counts_{name}()""")
    # the documents already indexed
    op.execute(DELTA.format(s=S, src=f"SELECT {COLS}, 1 AS dn FROM {S}.documents"))


def downgrade() -> None:
    for name in ("ins", "upd", "del"):
        op.execute(f"DROP TRIGGER documents_counts_{name} ON {S}.documents")
        op.execute(f"DROP FUNCTION {S}.facet_counts_{name}()")
    op.execute(f"DROP TABLE {S}.facet_counts")
    op.execute(f"DROP FUNCTION {S}.doc_terms(tsvector)")
    op.execute(f"DROP FUNCTION {S}.counted_term(text)")
    op.execute(f"DROP TABLE {S}.count_concepts")
