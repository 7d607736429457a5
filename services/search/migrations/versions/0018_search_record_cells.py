"""Records counted per facet combination, for browsing with filters and no words.

An empty query with filters (a dataset, a kecamatan, a period, a topic, a publisher: what the
portal's facets and filters make) read its matches up to 10,001 to count them, and past that
answered a lower bound ("Lebih dari 10.000 hasil" for one dataset of 44,000 records, 87 ms at
1,000,000 records). `record_cells` (dataset, topic, publisher, kecamatan_code, period) -> n
holds how many record documents have each combination of those facets: a few per dataset,
kecamatan and period (~16,000 at 1,000,000 records), so any filter on them is summed from the
cells it keeps, exactly, and the facets are the cells grouped. Kept by statement triggers on
documents from their transition tables, in the indexing transaction itself, like
`facet_counts` (migration 0004): a batch touches a few cells (one dataset, a few periods, the
kecamatan of its villages), and an update that changes none of them nets to nothing.

`region_lexeme` now also says the region's level (a kecamatan filter is a kecamatan's cells).

Revision ID: 0018
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

S = "search"
PLANNED_ONCE = "SET plan_cache_mode = force_generic_plan SET search_path = search, public"
KEY = "dataset, topic, publisher, kecamatan_code, period"
DELTA = """
    INSERT INTO {s}.record_cells AS c ({key}, n)
    SELECT {key}, sum(d.dn) FROM ({src}) d
    WHERE d.kind = 'record'
    GROUP BY {key} HAVING sum(d.dn) <> 0
    ORDER BY {key}   -- one lock order for concurrent indexing transactions
    ON CONFLICT ({key}) DO UPDATE SET n = c.n + EXCLUDED.n"""
COLS = f"kind, {KEY}"


def _region_lexeme(level: bool) -> None:
    """`region_lexeme` (migration 0017) with the region's level (`level`), for every region;
    without, for a village only (0017's)."""
    op.execute(f"""
        CREATE OR REPLACE FUNCTION {S}.region_lexeme(code text) RETURNS json
        LANGUAGE plpgsql STABLE STRICT {PLANNED_ONCE} AS $$
        BEGIN
        RETURN (SELECT json_build_object({"'level', g.level, " if level else ""}
                                         'lexeme', x.lex, 'records', x.n)
        FROM regions g
        CROSS JOIN LATERAL (SELECT concat_ws(' ', g.name, array_to_string(g.aliases, ' ')) AS t) n
        LEFT JOIN LATERAL (
            -- (the same function makes the records' tsvector: the same lexemes)
            SELECT x.lex, f.n
            FROM unnest(tsvector_to_array(weighted_tsv(NULL, n.t, NULL, NULL))) x(lex)
            LEFT JOIN facet_counts f ON f.term = x.lex AND f.facet = 'kind'
                                    AND f.value = 'record'
            WHERE g.level IN ('desa', 'kelurahan')
              AND (counted_term(x.lex) OR length(x.lex) >= 7)
            ORDER BY counted_term(x.lex), coalesce(f.n, 0), x.lex
            LIMIT 1) x ON true
        WHERE g.code = region_lexeme.code{"" if level else " AND x.lex IS NOT NULL"});
        END $$""")


def upgrade() -> None:
    op.execute(f"""CREATE TABLE {S}.record_cells (
                       dataset text COLLATE "C", topic text COLLATE "C",
                       publisher text COLLATE "C", kecamatan_code text COLLATE "C",
                       period text COLLATE "C", n bigint NOT NULL,
                       UNIQUE NULLS NOT DISTINCT ({KEY}))""")
    ins = DELTA.format(s=S, key=KEY, src=f"SELECT {COLS}, 1 AS dn FROM new_docs")
    upd = DELTA.format(s=S, key=KEY, src=f"SELECT {COLS}, 1 AS dn FROM new_docs UNION ALL "
                                         f"SELECT {COLS}, -1 FROM old_docs")
    dele = DELTA.format(s=S, key=KEY, src=f"SELECT {COLS}, -1 AS dn FROM old_docs")
    for name, body, tables, event in (
            ("ins", ins, "NEW TABLE AS new_docs", "INSERT"),
            ("upd", upd, "OLD TABLE AS old_docs NEW TABLE AS new_docs", "UPDATE"),
            ("del", dele, "OLD TABLE AS old_docs", "DELETE")):
        op.execute(f"""CREATE FUNCTION {S}.record_cells_{name}() RETURNS trigger
                       LANGUAGE plpgsql AS $fn$ BEGIN {body}; RETURN NULL; END $fn$""")
        op.execute(f"""CREATE TRIGGER documents_cells_{name} AFTER {event} ON {S}.documents
                       REFERENCING {tables} FOR EACH STATEMENT
                       EXECUTE FUNCTION {S}.record_cells_{name}()""")
    # the documents already indexed
    op.execute(DELTA.format(s=S, key=KEY, src=f"SELECT {COLS}, 1 AS dn FROM {S}.documents"))
    _region_lexeme(level=True)


def downgrade() -> None:
    _region_lexeme(level=False)
    for name in ("ins", "upd", "del"):
        op.execute(f"DROP TRIGGER documents_cells_{name} ON {S}.documents")
        op.execute(f"DROP FUNCTION {S}.record_cells_{name}()")
    op.execute(f"DROP TABLE {S}.record_cells")
