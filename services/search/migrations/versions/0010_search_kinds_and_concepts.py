"""The counted concepts follow what a typed word now stands for (services/search/query_text.py):
"sekolah" covers its kinds (SD, MI, SMP, MTs, SMA, MA, SMK, madrasah) while a level no longer
stands for the others; age (umur, usia), income (pendapatan, penghasilan) and poverty (miskin,
kemiskinan, prasejahtera) are new concepts. The kept counts of the changed concepts are
counted afresh from the documents (through the tsvector index, one statement per concept), so
a one-word query keeps its exact total.

Revision ID: 0010
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

S = "search"
# concept -> the words whose Indonesian stems it covers (query_text._alternatives of each word
# of the set: the words, their ke-...-an forms, the synonyms and kinds)
CONCEPTS = {
    "sekolah": "kesekolahan sekolah sd mi smp mts sma ma smk madrasah",
    "umur": "keumuran keusiaan umur usia",
    "pendapatan": "pendapatan penghasilan",
    "miskin": "kemiskinan keprasejahteraan miskin prasejahtera",
}
BEFORE = {"sekolah": "kesekolahan sd sekolah sma smp"}

RECOUNT = """
    INSERT INTO {s}.facet_counts (term, facet, value, n)
    SELECT '~{c}', x.facet, x.value, count(*)
    FROM {s}.documents d
    CROSS JOIN LATERAL (VALUES ('kind', d.kind), ('dataset', d.dataset), ('topic', d.topic),
                               ('publisher', d.publisher), ('kecamatan', d.kecamatan_code),
                               ('period', d.period)) x(facet, value)
    WHERE d.kind = 'record' AND x.value IS NOT NULL
      AND d.tsv @@ (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery
                    FROM {s}.count_concepts WHERE concept = '~{c}')
    GROUP BY 1, 2, 3"""


def _set(concepts: dict[str, str]) -> None:
    for concept, words in concepts.items():
        op.execute(f"DELETE FROM {S}.count_concepts WHERE concept = '~{concept}'")
        op.execute(f"""INSERT INTO {S}.count_concepts
                       SELECT DISTINCT l, '~{concept}' FROM unnest(tsvector_to_array(
                           to_tsvector('indonesian', '{words}'))) l
                       ON CONFLICT DO NOTHING""")
        op.execute(f"DELETE FROM {S}.facet_counts WHERE term = '~{concept}'")
        op.execute(RECOUNT.format(s=S, c=concept))


def upgrade() -> None:
    _set(CONCEPTS)


def downgrade() -> None:
    for concept in CONCEPTS:
        op.execute(f"DELETE FROM {S}.count_concepts WHERE concept = '~{concept}'")
        op.execute(f"DELETE FROM {S}.facet_counts WHERE term = '~{concept}'")
    _set(BEFORE)
