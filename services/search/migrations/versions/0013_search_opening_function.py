"""A search's first statement, its words' lookup, the place a question names and the check
that one word's records hold the others, as functions planned once per session.

A search transaction's first statement reads the index version, a walk's snapshot, the typo
corrections and what the kept counts hold of the query's words. Planned anew each time, its
planning cost more than running it (0.3-0.45 ms planning against 0.1-0.2 running, at 1,000,000
records): every plan it can get is the same (index probes by key, a vocabulary of a few
thousand words), so these functions keep one generic plan per session (PL/pgSQL caches it;
`SET plan_cache_mode` holds only inside the function, and the caller's statements after it are
planned for their own words). `word_lexemes` is what `facet_counts.words_of` reads: per word
(its alternatives, the prefix it is typed as, i from 1) its lexemes, typed and begun by its
prefix (the counted terms in that range of the counts' key); whether each is counted, how many
records hold it, its concept, and whether another lexeme of that concept occurs (then the
concept counts more documents than the word matches). A word whose `unless_known` entry is in
the vocabulary is skipped (the opening looks a last word up both whole and as a prefix, and
only a word not known is typed as one).

Revision ID: 0013
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

S = "search"
PLANNED_ONCE = "SET plan_cache_mode = force_generic_plan SET search_path = search, public"


def upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION {S}.word_lexemes(words text[], prefix text[], prefix_end text[],
                                         unless_known text[], terms_max int) RETURNS json
        LANGUAGE plpgsql STABLE {PLANNED_ONCE} AS $$
        BEGIN
        RETURN (SELECT json_agg(r) FROM (
        WITH g AS (SELECT g.* FROM unnest(words, prefix, prefix_end, unless_known)
                                   WITH ORDINALITY g(words, prefix, prefix_end, unless_known, i)
                   CROSS JOIN LATERAL (SELECT EXISTS (
                       SELECT 1 FROM vocabulary v WHERE v.word = g.unless_known) AS known) k
                   WHERE g.unless_known IS NULL OR NOT k.known),
             typed AS (SELECT g.i, x AS lex FROM g,
                           unnest(tsvector_to_array(to_tsvector('indonesian', g.words))) x),
             begun AS (SELECT g.i, b.lex FROM g CROSS JOIN LATERAL (
                           SELECT DISTINCT f.term AS lex FROM facet_counts f
                           WHERE g.prefix IS NOT NULL AND f.term >= g.prefix
                             AND f.term < g.prefix_end AND f.facet = 'kind' AND f.n > 0
                           LIMIT terms_max) b),
             l AS (SELECT l.i, l.lex, bool_or(l.typed) AS typed
                   FROM (SELECT t.i, t.lex, true AS typed FROM typed t
                         UNION ALL SELECT b.i, b.lex, false FROM begun b) l
                   GROUP BY l.i, l.lex),
             s AS (SELECT l.i, l.lex, l.typed, counted_term(l.lex) AS counted, c.concept,
                          (SELECT f.n FROM facet_counts f WHERE f.term = l.lex
                           AND f.facet = 'kind' AND f.value = 'record') AS n,
                          (SELECT f.n FROM facet_counts f WHERE f.term = c.concept
                           AND f.facet = 'kind' AND f.value = 'record') AS concept_n,
                          array_agg(l.lex) OVER (PARTITION BY l.i) AS group_lexemes
                   FROM l LEFT JOIN count_concepts c ON c.lexeme = l.lex)
        SELECT s.i, s.lex, s.typed, s.counted, s.concept, s.n, s.concept_n,
               (SELECT count(*) FROM begun b WHERE b.i = s.i) AS begun,
               s.concept IS NOT NULL AND EXISTS (
                   SELECT 1 FROM count_concepts c
                   JOIN facet_counts f ON f.term = c.lexeme AND f.facet = 'kind'
                   WHERE c.concept = s.concept AND f.n > 0
                     AND c.lexeme <> ALL(s.group_lexemes)) AS others_occur,
               (SELECT c.reltuples FROM pg_class c
                WHERE c.oid = 'search.documents'::regclass) AS reltuples
        FROM s) r);
        END $$""")
    # the place in force whose name (or an alias), without its level word, is all among the
    # typed words: the longest such name; the level typed, then the higher level, first. Only
    # names holding a typed word are split into words (splitting all ~1,700 names and aliases
    # took ~1 ms): a name all of whose words are typed holds one
    op.execute(f"""
        CREATE FUNCTION {S}.place_named(typed_words text[], level_words text[], wanted_level int)
        RETURNS json LANGUAGE plpgsql STABLE {PLANNED_ONCE} AS $$
        BEGIN
        RETURN (SELECT json_build_object('code', g.code, 'name', g.name, 'level', g.level,
                                         'words', n.words)
        FROM regions g
        CROSS JOIN LATERAL unnest(g.name || g.aliases) x(name)
        CROSS JOIN LATERAL (SELECT lower(x.name) AS lowered) l
        CROSS JOIN LATERAL (
            SELECT array_agg(w) AS words
            FROM regexp_split_to_table(l.lowered, '[^a-z0-9]+') w
            WHERE w <> '' AND w <> ALL(level_words)) n
        WHERE g.valid_until IS NULL
          AND EXISTS (SELECT 1 FROM unnest(typed_words) t WHERE strpos(l.lowered, t) > 0)
          AND n.words <@ typed_words
        ORDER BY cardinality(n.words) DESC,
                 coalesce(cardinality(string_to_array(g.code, '.')) = wanted_level, false) DESC,
                 cardinality(string_to_array(g.code, '.')), g.code
        LIMIT 1);
        END $$""")
    # the rarest of the counted terms (one per word) when every record holding it holds every
    # other one too (facet_counts.contained_term says how it is decided); NULL when not
    op.execute(f"""
        CREATE FUNCTION {S}.contained_term(terms text[], check_max bigint) RETURNS text
        LANGUAGE plpgsql STABLE {PLANNED_ONCE} AS $$
        BEGIN
        RETURN (SELECT CASE WHEN x.outside = 0 THEN x.term END FROM (
        WITH t AS (SELECT DISTINCT unnest(terms) AS term),
             q AS (SELECT t.term, CASE WHEN t.term LIKE '~%' THEN (
                       SELECT '(' || string_agg(quote_literal(c.lexeme), ' | ') || ')'
                       FROM count_concepts c WHERE c.concept = t.term)
                       ELSE quote_literal(t.term) END AS tsq
                   FROM t),
             r AS (SELECT q.term, q.tsq, sum(f.n) AS n FROM q
                   JOIN facet_counts f ON f.term = q.term AND f.facet = 'kind'
                   GROUP BY q.term, q.tsq ORDER BY sum(f.n), q.term LIMIT 1)
        SELECT r.term, CASE WHEN EXISTS (
                   SELECT 1 FROM facet_counts a CROSS JOIN t
                   LEFT JOIN facet_counts b
                     ON b.term = t.term AND b.facet = a.facet AND b.value = a.value
                   WHERE a.term = r.term AND a.n > 0 AND t.term <> r.term
                     AND coalesce(b.n, 0) < a.n) THEN NULL
               WHEN EXISTS (  -- a facet covers the rarest term
                   SELECT 1 FROM facet_counts a
                   JOIN facet_counts e ON e.term = '*' AND e.facet = a.facet
                                      AND e.value = a.value
                   WHERE a.term = r.term AND a.n > 0
                   GROUP BY a.facet
                   HAVING sum(a.n) = r.n AND bool_and(NOT EXISTS (
                       SELECT 1 FROM t LEFT JOIN facet_counts b
                         ON b.term = t.term AND b.facet = a.facet AND b.value = a.value
                       WHERE t.term <> r.term AND coalesce(b.n, 0) < e.n))) THEN 0
               WHEN r.n <= check_max THEN (SELECT count(*) FROM documents d WHERE d.tsv @@ (
                        r.tsq || ' & !(' || (SELECT string_agg(q.tsq, ' & ') FROM q
                                             WHERE q.term <> r.term) || ')')::tsquery)
               END AS outside
        FROM r) x);
        END $$""")
    # the typo corrections: for each word not in the vocabulary, the closest vocabulary words
    # (trigram similarity); whether it is in it; whether it begins a longer one in it; and,
    # asked for, the words' lexemes and the place they name
    op.execute(f"""
        CREATE FUNCTION {S}.search_opening(words text[], threshold float8,
                                           lex_words text[], lex_prefix text[],
                                           lex_prefix_end text[], lex_unless_known text[],
                                           terms_max int, place_words text[],
                                           level_words text[], wanted_level int,
                                           OUT version bigint, OUT snapshot bigint,
                                           OUT typed json, OUT lexemes json, OUT place json)
        LANGUAGE plpgsql STABLE {PLANNED_ONCE} AS $$
        BEGIN
        version := (SELECT s.version FROM index_state s WHERE s.id = 1);
        snapshot := (SELECT coalesce(max(d.created_seq), 0) FROM documents d);
        typed := (SELECT json_agg(json_build_object('w', w, 'known', k.known, 'alts',
                      CASE WHEN k.known THEN '{{}}'::text[] ELSE ARRAY(
                          SELECT v.word FROM vocabulary v
                          WHERE v.word % w AND similarity(v.word, w) >= threshold
                          ORDER BY similarity(v.word, w) DESC, v.word LIMIT 2) END,
                      'begins', EXISTS (SELECT 1 FROM vocabulary v
                                        WHERE v.word LIKE w || '%' AND v.word <> w)))
                   FROM unnest(words) w, LATERAL (SELECT EXISTS (
                       SELECT 1 FROM vocabulary v WHERE v.word = w) AS known) k);
        IF cardinality(lex_words) > 0 THEN
            lexemes := word_lexemes(lex_words, lex_prefix, lex_prefix_end, lex_unless_known,
                                    terms_max);
        END IF;
        IF place_words IS NOT NULL THEN
            place := place_named(place_words, level_words, wanted_level);
        END IF;
        END $$""")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {S}.search_opening(text[], float8, text[], text[], text[], "
               f"text[], int, text[], text[], int)")
    op.execute(f"DROP FUNCTION {S}.place_named(text[], text[], int)")
    op.execute(f"DROP FUNCTION {S}.contained_term(text[], bigint)")
    op.execute(f"DROP FUNCTION {S}.word_lexemes(text[], text[], text[], text[], int)")
