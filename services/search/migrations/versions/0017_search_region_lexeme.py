"""A village's own lexeme: one that every record document of the village holds, for a word's
index lookup under a village filter to skip, inside the tsvector index, the word's postings of
every other place.

Every record document holds its region's name and aliases (the statistics agency's code among
them) in its tsvector, weight B, and its ancestors' in weight C (`build_record_docs`), and a
region whose name or aliases change has the documents of its records and its descendants'
rebuilt (`indexing.apply_regions`). So the lexemes of a region's name and aliases are held by
every record document of the region: ANDed with a query's words they change no answer, and
the index intersects the word's posting list with the village's instead of building a bitmap
of the whole word ("sekolah" in a village of 1,000,000 records: 66,000 postings read to keep
471). The lexeme chosen is the rarest: the agency's code (numbers are not counted, and a code
names one place), else the counted lexeme fewest records hold. Only a village's (desa,
kelurahan): a kecamatan's records are as many as a common word's, and the index then gains
nothing over its region and period btree (measured: docs/search.md). Planned once per session
like the other lookups of the opening statement (migration 0013).

Revision ID: 0017
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

S = "search"
PLANNED_ONCE = "SET plan_cache_mode = force_generic_plan SET search_path = search, public"


def upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION {S}.region_lexeme(code text) RETURNS json
        LANGUAGE plpgsql STABLE STRICT {PLANNED_ONCE} AS $$
        BEGIN
        RETURN (SELECT json_build_object('lexeme', x.lex, 'records', f.n)
        FROM regions g
        CROSS JOIN LATERAL (SELECT concat_ws(' ', g.name, array_to_string(g.aliases, ' ')) AS t) n
        -- (the same function makes the records' tsvector: the same lexemes)
        CROSS JOIN LATERAL unnest(tsvector_to_array(weighted_tsv(NULL, n.t, NULL, NULL))) x(lex)
        LEFT JOIN facet_counts f ON f.term = x.lex AND f.facet = 'kind' AND f.value = 'record'
        WHERE g.code = region_lexeme.code AND g.level IN ('desa', 'kelurahan')
          AND (counted_term(x.lex) OR length(x.lex) >= 7)
        ORDER BY counted_term(x.lex), coalesce(f.n, 0), x.lex
        LIMIT 1);
        END $$""")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {S}.region_lexeme(text)")
