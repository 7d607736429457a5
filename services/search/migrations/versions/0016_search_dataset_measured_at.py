"""The dataset a question's figure is measured by, planned once per session. Every first page
of several words that names a place asks which dataset matching its other words holds a record
there (`answer_store.dataset_measured_at`); planned per call, the statement cost 0.2-0.37 ms to
plan and 0.15-0.3 to run at 1,000,000 records. Its plan never depends on the words (the ~170
regions and datasets read by their partial index, then index probes by the place's code and
the dataset), so a PL/pgSQL function keeps one generic plan per session (`SET
plan_cache_mode` holds only inside it). The place's descendants are the codes from "<code>."
up to "<code>/" (the next character): the same rows as `LIKE '<code>.%'` in the column's "C"
collation, and, unlike a pattern in a parameter, an index range in a generic plan.

Revision ID: 0016
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

S = "search"
PLANNED_ONCE = "SET plan_cache_mode = force_generic_plan SET search_path = search, public"


def upgrade() -> None:
    op.execute(f"""
        CREATE FUNCTION {S}.dataset_measured_at(q tsquery, region text)
        RETURNS TABLE (slug text, title text, dimension_values jsonb)
        LANGUAGE plpgsql STABLE {PLANNED_ONCE} AS $$
        BEGIN
        RETURN QUERY
        SELECT c.slug::text, c.title, c.dimension_values FROM (
            SELECT s.slug, s.title, s.payload->'dimension_values' AS dimension_values,
                   ts_rank_cd(d.tsv, q) AS rank
            FROM documents d JOIN datasets s ON s.slug = d.dataset
            WHERE d.kind <> 'record' AND d.kind = 'dataset'  -- (the first: its partial index)
              AND ts_match_vq(d.tsv, q)
            ORDER BY rank DESC, s.slug) c
        WHERE coalesce(
            (SELECT true FROM documents r
             WHERE r.region_code = region AND r.dataset = c.slug COLLATE "default"
               AND r.kind = 'record'
             LIMIT 1),
            (SELECT true FROM documents r
             WHERE r.region_code >= region || '.' AND r.region_code < region || '/'
               AND r.dataset = c.slug COLLATE "default" AND r.kind = 'record'
             ORDER BY r.region_code LIMIT 1), false)
        LIMIT 1;
        END $$""")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {S}.dataset_measured_at(tsquery, text)")
