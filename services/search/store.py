"""SQL for the search schema. Never commits: the consumer's or the reindex's transaction does.

Documents are a pure function of search's copies of regions, datasets and records, so the live
index (events in any order, late or twice) and a rebuild from the registry's snapshot agree.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import asyncpg

from shared.contracts import DatasetV1, RecordV1, RegionV1

# Serialises document builds that read across copies: a records batch builds from the regions
# and datasets it sees, so a regions/datasets change (exclusive) must not interleave with it.
INDEX_LOCK = 0x5EA7C4  # arbitrary, search's own


async def lock_shared(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", INDEX_LOCK)


async def lock_exclusive(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1)", INDEX_LOCK)


# --- copies --------------------------------------------------------------------------------

async def _temp(conn: asyncpg.Connection, name: str, like: str) -> None:
    await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (LIKE {like} INCLUDING DEFAULTS) "
                       "ON COMMIT DELETE ROWS")
    await conn.execute(f"DELETE FROM {name}")  # (a reindex stages several in one transaction)


async def upsert_regions(conn: asyncpg.Connection, regions: Sequence[RegionV1]) -> list[str]:
    await _temp(conn, "tmp_search_regions", "search.regions")
    await conn.copy_records_to_table(
        "tmp_search_regions",
        columns=["code", "name", "level", "parent_code", "path_codes", "path_names", "aliases",
                 "version", "valid_until", "successors", "valid_from"],
        records=[(r.code, r.name, r.level, r.parent_code, r.path_codes, r.path_names,
                  r.aliases, r.version, r.valid_until,
                  ", ".join(f"{n} ({c})" for c, n in zip(r.successor_codes, r.successor_names))
                  or None, r.valid_from) for r in regions])
    rows = await conn.fetch("""
        INSERT INTO regions AS x (code, name, level, parent_code, path_codes, path_names,
                                  aliases, version, valid_until, successors, valid_from)
        SELECT DISTINCT ON (code) code, name, level, parent_code, path_codes, path_names,
               aliases, version, valid_until, successors, valid_from
        FROM tmp_search_regions ORDER BY code, version DESC
        ON CONFLICT (code) DO UPDATE SET
            name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
            path_codes = EXCLUDED.path_codes, path_names = EXCLUDED.path_names,
            aliases = EXCLUDED.aliases, version = EXCLUDED.version,
            valid_until = EXCLUDED.valid_until, successors = EXCLUDED.successors,
            valid_from = EXCLUDED.valid_from
        WHERE x.version <= EXCLUDED.version
        RETURNING code""")
    return [r["code"] for r in rows]


async def refresh_region_ancestry(conn: asyncpg.Connection) -> None:
    """Ancestor names and aliases, and the kecamatan, of every region (the table is small)."""
    await conn.execute("""
        UPDATE regions r SET ancestry_text = x.ancestry_text, ancestry_names = x.ancestry_names,
                             kecamatan_code = x.kecamatan_code, kecamatan_name = x.kecamatan_name
        FROM (SELECT r.code,
                     coalesce(string_agg(concat_ws(' ', a.name, array_to_string(a.aliases, ' ')),
                                         ' ' ORDER BY length(a.code), a.code)
                              FILTER (WHERE a.code <> r.code), '') AS ancestry_text,
                     coalesce(string_agg(a.name, ' ' ORDER BY length(a.code), a.code)
                              FILTER (WHERE a.code <> r.code), '') AS ancestry_names,
                     max(a.code) FILTER (WHERE a.level = 'kecamatan') AS kecamatan_code,
                     max(a.name) FILTER (WHERE a.level = 'kecamatan') AS kecamatan_name
              FROM regions r
              JOIN regions a ON a.code = r.code OR r.code LIKE a.code || '.%'
              GROUP BY r.code) x
        WHERE r.code = x.code
          AND (r.ancestry_text, r.ancestry_names, r.kecamatan_code, r.kecamatan_name)
              IS DISTINCT FROM (x.ancestry_text, x.ancestry_names, x.kecamatan_code,
                                x.kecamatan_name)""")


async def upsert_datasets(conn: asyncpg.Connection, datasets: Sequence[DatasetV1]) -> list[str]:
    rows = await conn.fetch("""
        INSERT INTO datasets AS x (slug, title, topic, publisher, payload, version)
        SELECT DISTINCT ON (p->>'slug') p->>'slug', p->>'title', p->>'topic', p->>'publisher',
               p, (p->>'version')::int
        FROM jsonb_array_elements($1::jsonb) p
        ORDER BY p->>'slug', (p->>'version')::int DESC
        ON CONFLICT (slug) DO UPDATE SET
            title = EXCLUDED.title, topic = EXCLUDED.topic, publisher = EXCLUDED.publisher,
            payload = EXCLUDED.payload, version = EXCLUDED.version
        WHERE x.version <= EXCLUDED.version
        RETURNING slug""", [d.model_dump(mode="json") for d in datasets])
    return [r["slug"] for r in rows]


async def stage_records(conn: asyncpg.Connection, records: Iterable[RecordV1 | tuple]) -> None:
    """COPY a batch into the session's temp table (rows: RecordV1 or ready tuples)."""
    await _temp(conn, "tmp_search_records", "search.records")
    await conn.copy_records_to_table(
        "tmp_search_records",
        columns=["record_id", "dataset", "region_code", "period", "dimensions", "values",
                 "version", "status", "publisher_id", "changed_at", "verification_status",
                 "sent_at"],
        records=[_record_tuple(r) if isinstance(r, RecordV1) else r for r in records])


def _record_tuple(r: RecordV1) -> tuple:
    return (r.record_id, r.dataset, r.region_code, r.period, r.dimensions, r.values,
            r.version, r.status, r.publisher_id, r.changed_at, r.verification_status, r.sent_at)


async def upsert_staged_records(conn: asyncpg.Connection) -> None:
    """The staged records over what search holds: a newer version always; the same version
    re-sent (its public form changed, or its verification mark) only when it
    differs and was sent later, so an older form arriving late on another loop loses."""
    await conn.execute("""
        INSERT INTO records AS x (record_id, dataset, region_code, period, dimensions, "values",
                                  version, status, publisher_id, changed_at, verification_status,
                                  sent_at)
        SELECT DISTINCT ON (record_id) record_id, dataset, region_code, period, dimensions,
               "values", version, status, publisher_id, changed_at, verification_status, sent_at
        FROM tmp_search_records
        ORDER BY record_id, version DESC, sent_at DESC NULLS LAST
        ON CONFLICT (record_id) DO UPDATE SET
            dataset = EXCLUDED.dataset, region_code = EXCLUDED.region_code,
            period = EXCLUDED.period, dimensions = EXCLUDED.dimensions,
            "values" = EXCLUDED."values", version = EXCLUDED.version,
            status = EXCLUDED.status, publisher_id = EXCLUDED.publisher_id,
            changed_at = EXCLUDED.changed_at, verification_status = EXCLUDED.verification_status,
            sent_at = EXCLUDED.sent_at
        WHERE x.version < EXCLUDED.version
           OR (x.version = EXCLUDED.version
               AND EXCLUDED.sent_at > coalesce(x.sent_at, '-infinity'::timestamptz)
               AND (x."values", x.verification_status)
                   IS DISTINCT FROM (EXCLUDED."values", EXCLUDED.verification_status))""")


async def bump_index_version(conn: asyncpg.Connection) -> None:
    """Last statement of an indexing transaction: cached answers of older versions lapse."""
    await conn.execute("UPDATE index_state SET version = version + 1 WHERE id = 1")


async def index_version(conn: asyncpg.Connection) -> int:
    return await conn.fetchval("SELECT version FROM index_state WHERE id = 1") or 0


async def truncate_all(conn: asyncpg.Connection) -> None:
    # (a TRUNCATE fires no row or statement trigger: the kept counts go with it)
    await conn.execute("TRUNCATE documents, records, datasets, regions, vocabulary, "
                       "facet_counts, record_cells, publishers")
    await bump_index_version(conn)


# --- documents -----------------------------------------------------------------------------

_UPSERT_TAIL = """
    ON CONFLICT (doc_id) DO UPDATE SET
        version = EXCLUDED.version, title = EXCLUDED.title, name = EXCLUDED.name,
        aliases = EXCLUDED.aliases, body = EXCLUDED.body, tsv = EXCLUDED.tsv,
        dataset = EXCLUDED.dataset, topic = EXCLUDED.topic, publisher = EXCLUDED.publisher,
        region_code = EXCLUDED.region_code, region_name = EXCLUDED.region_name,
        kecamatan_code = EXCLUDED.kecamatan_code, kecamatan_name = EXCLUDED.kecamatan_name,
        period = EXCLUDED.period, "values" = EXCLUDED."values",
        verification_status = EXCLUDED.verification_status, static_rank = EXCLUDED.static_rank, indexed_at = clock_timestamp()
    WHERE d.version <= EXCLUDED.version
      -- "changed?" is decided on every derived column, so a document built before its
      -- region's or dataset's final data is rebuilt whichever loop and order brings it
      AND (d.kind, d.ref, d.version, d.title, d.name, d.aliases, d.body, d.tsv, d.dataset,
           d.topic, d.publisher, d.region_code, d.region_name, d.kecamatan_code,
           d.kecamatan_name, d.period, d."values", d.static_rank, d.verification_status)
          IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.ref, EXCLUDED.version, EXCLUDED.title,
           EXCLUDED.name, EXCLUDED.aliases, EXCLUDED.body, EXCLUDED.tsv, EXCLUDED.dataset,
           EXCLUDED.topic, EXCLUDED.publisher, EXCLUDED.region_code, EXCLUDED.region_name,
           EXCLUDED.kecamatan_code, EXCLUDED.kecamatan_name, EXCLUDED.period,
           EXCLUDED."values", EXCLUDED.static_rank, EXCLUDED.verification_status)"""

_DOC_COLUMNS = """(doc_id, kind, ref, version, title, name, aliases, body, tsv, dataset, topic,
                   publisher, region_code, region_name, kecamatan_code, kecamatan_name, period,
                   "values", static_rank, verification_status)"""

# in [0, 1): current places before retired ones, then newer periods before older
_CURRENT = "CASE WHEN g.valid_until IS NULL THEN 0.5 ELSE 0 END"
_RECENT = ("CASE WHEN r.period ~ '^[0-9]{4}' THEN least(greatest(left(r.period, 4)::int - 1900, 0)"
           ", 199) / 400.0 + coalesce(substring(r.period from '^[0-9]{4}-([0-9]{2})')::int, 0)"
           " / 10000.0 ELSE 0 END")


async def build_region_docs(conn: asyncpg.Connection, codes: Sequence[str] | None) -> None:
    where = "" if codes is None else "WHERE g.code = ANY($1::text[])"
    args = () if codes is None else (list(codes),)
    await conn.execute(f"""
        INSERT INTO documents AS d {_DOC_COLUMNS}
        SELECT 'region:' || g.code, 'region', g.code, g.version, g.name, g.name, g.aliases,
               concat_ws(' ', g.name, '(' || g.level || ')',
                         '(tidak berlaku sejak ' || g.valid_until
                           || coalesce('; digantikan oleh ' || g.successors, '') || ')',
                         array_to_string(g.aliases, ' '), '—', g.ancestry_names),
               weighted_tsv(concat_ws(' ', g.name, array_to_string(g.aliases, ' ')), NULL,
                            concat_ws(' ', g.level, g.ancestry_text), NULL),
               NULL, NULL, NULL, g.code, g.name, g.kecamatan_code, g.kecamatan_name, NULL, NULL,
               {_CURRENT}, NULL
        FROM regions g {where}
        ORDER BY 1
        {_UPSERT_TAIL}""", *args)


# a dataset the walidata withdrew: neither it nor its records are searchable until restored
_RETRACTED = "coalesce((s.payload->>'retracted')::boolean, false)"


async def build_dataset_docs(conn: asyncpg.Connection, slugs: Sequence[str] | None) -> None:
    where = "true" if slugs is None else "s.slug = ANY($1::text[])"
    args = () if slugs is None else (list(slugs),)
    await conn.execute(f"""
        INSERT INTO documents AS d {_DOC_COLUMNS}
        SELECT 'dataset:' || s.slug, 'dataset', s.slug, s.version, s.title, s.title,
               ARRAY[s.slug],
               concat_ws(' ', s.title, '—', s.payload->>'description', tags, labels, meta),
               weighted_tsv(s.title, concat_ws(' ', tags, s.topic),
                            concat_ws(' ', s.payload->>'description', meta), labels),
               s.slug, s.topic, coalesce(s.payload->>'publisher_id', s.publisher),
               NULL, NULL, NULL, NULL, NULL, NULL, 0.5, NULL
        FROM datasets s
        CROSS JOIN LATERAL (SELECT
            (SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(s.payload->'tags') t) tags,
            (SELECT string_agg(v #>> '{{}}', ' ') FROM jsonb_path_query(
                coalesce(s.payload->'metadata', '{{}}'), 'strict $.** ? (@.type() == "string")') v
            ) meta,
            concat_ws(' ',
              (SELECT string_agg(l.value, ' ' ORDER BY e.key, l.key)
               FROM jsonb_each(coalesce(s.payload->'dimension_values', '{{}}')) e,
                    jsonb_each_text(e.value) l),
              (SELECT string_agg(concat_ws(' ', m.value->>'label', m.value->>'unit'), ' '
                                 ORDER BY m.key)
               FROM jsonb_each(coalesce(s.payload->'measure_info', '{{}}')) m)) labels) x
        WHERE {where} AND NOT {_RETRACTED}
        ORDER BY 1
        {_UPSERT_TAIL}""", *args)
    await conn.execute(f"""
        DELETE FROM documents d USING datasets s
        WHERE d.doc_id = 'dataset:' || s.slug AND {_RETRACTED} AND {where}""", *args)


def _record_selector(*, record_ids: Sequence | None, datasets: Sequence[str] | None,
                     region_codes: Sequence[str] | None) -> tuple[str, tuple]:
    if record_ids is not None:
        return "r.record_id = ANY($1::uuid[])", (list(record_ids),)
    if datasets is not None:
        return "r.dataset = ANY($1::text[])", (list(datasets),)
    if region_codes is not None:
        return ("(r.region_code = ANY($1::text[]) OR r.region_code LIKE ANY($2::text[]))",
                (list(region_codes), [c + ".%" for c in region_codes]))
    return "true", ()


async def build_record_docs(conn: asyncpg.Connection, *, record_ids: Sequence | None = None,
                            datasets: Sequence[str] | None = None,
                            region_codes: Sequence[str] | None = None) -> None:
    """(Re)build the documents of the selected records; retracted ones are removed."""
    where, args = _record_selector(record_ids=record_ids, datasets=datasets,
                                   region_codes=region_codes)
    await conn.execute(f"""
        INSERT INTO documents AS d {_DOC_COLUMNS}
        SELECT 'record:' || r.record_id, 'record', r.record_id::text, r.version, x.title, NULL,
               '{{}}',
               concat_ws(' ', x.title, '—', x.dims, x.vals, '—', g.ancestry_names),
               -- (its region's name and aliases, and its ancestors': search.region_lexeme
               -- relies on every record of a village holding them, migration 0017)
               weighted_tsv(NULL,
                            concat_ws(' ', coalesce(s.title, r.dataset), g.name,
                                      array_to_string(g.aliases, ' '), r.period),
                            concat_ws(' ', g.ancestry_text, x.dims, s.topic), x.vals),
               r.dataset, s.topic, r.publisher_id, r.region_code, g.name, g.kecamatan_code,
               g.kecamatan_name, r.period, r."values", ({_CURRENT}) + ({_RECENT}),
               r.verification_status
        FROM records r
        LEFT JOIN datasets s ON s.slug = r.dataset
        LEFT JOIN regions g ON g.code = r.region_code
        CROSS JOIN LATERAL (SELECT
            -- the dimension values tell apart records of one place and period (L and P)
            concat_ws(' ', coalesce(s.title, r.dataset), '—', coalesce(g.name, r.region_code),
                      r.period, '(' || nullif((
                SELECT string_agg(coalesce(s.payload->'dimension_values'->e.key->>e.value,
                                           e.value), ', ' ORDER BY e.key)
                FROM jsonb_each_text(r.dimensions) e), '') || ')') AS title,
            (SELECT string_agg(coalesce(s.payload->'dimension_values'->e.key->>e.value, e.value),
                               ' ' ORDER BY e.key)
             FROM jsonb_each_text(r.dimensions) e) AS dims,
            -- a hidden small count reads "disembunyikan", never its JSON
            (SELECT string_agg(concat_ws(' ', coalesce(s.payload->'measure_info'->e.key->>'label',
                                                       e.key),
                                         CASE WHEN jsonb_typeof(e.value) = 'object'
                                              THEN 'disembunyikan' ELSE e.value #>> '{{}}' END),
                               ' ' ORDER BY e.key)
             FROM jsonb_each(r."values") e) AS vals) x
        WHERE {where} AND r.status = 'current' AND NOT {_RETRACTED}
        -- a batch's documents land together by dataset, period and region, so a query for a
        -- dataset or a place reads few pages; a record never changes these, so concurrent
        -- batches still lock their documents in one order
        ORDER BY r.dataset, r.period, r.region_code, 1
        {_UPSERT_TAIL}""", *args)
    await conn.execute(f"""
        DELETE FROM documents d USING records r LEFT JOIN datasets s ON s.slug = r.dataset
        WHERE d.doc_id = 'record:' || r.record_id
          AND (r.status <> 'current' OR {_RETRACTED}) AND {where}""",
        *args)


async def refresh_vocabulary(conn: asyncpg.Connection) -> None:
    """Words of region names, aliases and dataset names: what typos are corrected against."""
    await conn.execute("""
        WITH words AS (
            SELECT DISTINCT w FROM (
                SELECT regexp_split_to_table(lower(concat_ws(' ', name,
                           array_to_string(aliases, ' '))), '[^a-z0-9]+') w FROM regions
                UNION ALL
                SELECT regexp_split_to_table(lower(concat_ws(' ', title, topic,
                           (SELECT string_agg(t, ' ')
                            FROM jsonb_array_elements_text(payload->'tags') t),
                           (SELECT string_agg(l.value, ' ')
                            FROM jsonb_each(coalesce(payload->'dimension_values', '{}')) e,
                                 jsonb_each_text(e.value) l))), '[^a-z0-9]+') FROM datasets
            ) x WHERE length(w) >= 3),
        gone AS (DELETE FROM vocabulary v WHERE NOT EXISTS (SELECT 1 FROM words WHERE w = v.word))
        INSERT INTO vocabulary (word) SELECT w FROM words ORDER BY w ON CONFLICT DO NOTHING""")


# --- queries -------------------------------------------------------------------------------

async def vocabulary_words(conn: asyncpg.Connection) -> list[str]:
    return [r["word"] for r in await conn.fetch("SELECT word FROM vocabulary")]


async def documents_fingerprint(conn: asyncpg.Connection) -> list[dict]:
    """Every document's content (without insertion order or time): to compare two indexes."""
    rows = await conn.fetch("""
        SELECT doc_id, kind, ref, version, title, name, aliases, body, tsv::text AS tsv,
               dataset, topic, publisher, region_code, region_name, kecamatan_code,
               kecamatan_name, period, "values", verification_status
        FROM documents ORDER BY doc_id""")
    return [dict(r) for r in rows]


async def remember_publishers(conn: asyncpg.Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Keep the names that are new or changed. Nearly every batch names publishers already
    known by the same name: those are filtered out by a plain read first, because an upsert
    locks the row even when its WHERE leaves it unchanged, and the indexing loops would wait
    on each other's commits for nothing."""
    if not pairs:
        return
    await conn.execute("""
        INSERT INTO publishers AS p (id, name)
        SELECT i, n FROM unnest($1::text[], $2::text[]) x(i, n)
        WHERE NOT EXISTS (SELECT 1 FROM publishers k WHERE k.id = x.i AND k.name = x.n)
        ORDER BY i
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
        WHERE p.name IS DISTINCT FROM EXCLUDED.name""",
        [i for i, _ in pairs], [n for _, n in pairs])
