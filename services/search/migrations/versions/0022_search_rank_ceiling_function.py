"""A walk's rank ceiling as a function planned once per session.

The highest static rank a record matching every word can have (`sql/ceiling.py`: per word,
the newest year the kept counts hold for its lexemes) was a nest of subqueries inside every
walked page's statement, one level per word, each planned anew with the statement
(`force_custom_plan`): ~0.2 ms of planning for one word ("kombeng": 0.76 -> 0.57 ms),
more for several, where running it costs a few index probes of `facet_counts`. Its plans
never depend on the words (probes by key), so, like the opening's lookups (migration 0013),
it is a PL/pgSQL function whose plan is made once per session. A prefix's terms are the
range [prefix, prefix_end) of the counts' key (`term` is COLLATE "C" and a prefix is
[0-9a-z]+, so the range is exactly `LIKE prefix || '%'`, and a generic plan can probe it);
a number typed as a prefix gives no bound (numbers are not all counted). Same values as the
SQL it replaces (tested against it).

Revision ID: 0022
"""
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

S = "search"
PLANNED_ONCE = "SET plan_cache_mode = force_generic_plan SET search_path = search, public"


def upgrade() -> None:
    # per word (its alternatives, space-separated; the last one also typed as `prefix`): the
    # newest year's rank its lexemes reach, NULL (no bound) where one is not counted
    op.execute(f"""
        CREATE FUNCTION {S}.rank_ceiling(groups text[], prefix text, prefix_end text)
        RETURNS real LANGUAGE plpgsql STABLE {PLANNED_ONCE} AS $$
        BEGIN
        RETURN (SELECT coalesce(min(g.top), 'Infinity'::real) FROM (
            SELECT CASE WHEN w.i = cardinality(groups) AND prefix ~ '^[0-9]+$' THEN NULL
                   ELSE (SELECT CASE WHEN bool_and(counted_term(t.term) AND x.top IS NOT NULL)
                                     THEN max(x.top) END
                         FROM (SELECT unnest(tsvector_to_array(to_tsvector('indonesian',
                                                                           w.words)))
                               UNION
                               SELECT f.term FROM facet_counts f
                               WHERE w.i = cardinality(groups) AND prefix IS NOT NULL
                                 AND f.term >= prefix AND f.term < prefix_end
                                 AND f.facet = 'kind') t(term)
                         CROSS JOIN LATERAL (SELECT (
                             SELECT CASE WHEN count(*) = 0 THEN '-Infinity'::real
                                         WHEN max(f.value) ~ '^[0-9]{{4}}'
                                         THEN (0.5 + least(greatest(
                                                   left(max(f.value), 4)::int - 1900, 0),
                                                   199) / 400.0 + 12 / 10000.0)::real END
                             FROM facet_counts f
                             WHERE f.term = t.term AND f.facet = 'period' AND f.n > 0) AS top
                             OFFSET 0) x) END AS top
            FROM unnest(groups) WITH ORDINALITY w(words, i)) g);
        END $$""")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {S}.rank_ceiling(text[], text, text)")
