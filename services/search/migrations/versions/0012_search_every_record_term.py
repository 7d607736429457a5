"""The kept counts hold every record under one more term, '*' (ALL_RECORDS in
sql/facet_counts.py; no lexeme is punctuation): how many records each facet value has. With
it they can show that every record holding one word holds another without reading a
document: where all of the rarest word's records have values of one facet that every record
with that value holds the other word under ("wahau" lies in kecamatan Muara Wahau, whose
every record holds "muara"). The counts of '*' are counted once from the documents here,
then kept by the same statement triggers, through `doc_terms`.

Revision ID: 0012
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

S = "search"
TERMS = """SELECT l FROM unnest(tsvector_to_array(v)) l WHERE {s}.counted_term(l)
                     UNION
                     SELECT c.concept FROM {s}.count_concepts c
                     WHERE c.lexeme = ANY(tsvector_to_array(v))"""


def _doc_terms(body: str) -> None:
    op.execute(f"""CREATE OR REPLACE FUNCTION {S}.doc_terms(v tsvector) RETURNS SETOF text
                   LANGUAGE sql STABLE PARALLEL SAFE AS $$ {body} $$""")


def upgrade() -> None:
    _doc_terms("SELECT '*'::text UNION ALL " + TERMS.format(s=S))
    op.execute(f"""
        INSERT INTO {S}.facet_counts (term, facet, value, n)
        SELECT '*', x.facet, x.value, count(*)
        FROM {S}.documents d
        CROSS JOIN LATERAL (VALUES ('kind', d.kind), ('dataset', d.dataset), ('topic', d.topic),
                                   ('publisher', d.publisher), ('kecamatan', d.kecamatan_code),
                                   ('period', d.period)) x(facet, value)
        WHERE d.kind = 'record' AND x.value IS NOT NULL
        GROUP BY 1, 2, 3""")


def downgrade() -> None:
    _doc_terms(TERMS.format(s=S))
    op.execute(f"DELETE FROM {S}.facet_counts WHERE term = '*'")
