"""The pipeline's set-based floor: what the same rows cost PostgreSQL when the work the registry
and search do for them is written as a few set-based statements per chunk.

Per chunk of ``CHUNK`` rows, in one transaction against the platform's own database, schema and
functions, then rolled back (so the platform is left as it was, and the rows the pipeline
submits next are still new records, the same work):

1. one ``COPY`` of the raw cells as typed (region code, year, the dimension's code, the number as
   text) into a temporary table;
2. one registry statement of data-modifying CTEs: claim the chunk (exactly once), resolve each
   region by a probe of ``regions``, parse and check the year and the number (Indonesian
   thousands dots), classify each key against the master by a ``LIMIT 1`` probe, the dataset's
   verification policy, the outlier check over the 12 latest earlier periods (or 25 peers of
   the same level) with median and MAD in SQL (the registry's modified z-score), hold what
   fails (``held_values``), upsert the rest with a new version, its history row and its hash
   (``version_hash``, as ``apply_staged``), the record event in the outbox (one envelope per
   chunk, built by ``jsonb_agg``), and the chunk's summary;
3. search's side from that outbox row as it would arrive: the records upserted from the
   envelope's JSON, their documents built by search's own statement
   (``services.search.store.build_record_docs``: the same title, body, tsvector and kept
   counts by trigger), the index version bumped.

The rows are a ``common.Workload``'s: one dimension and one measure, as the bench datasets have.
Not in the floor (so it is lower than the same work done in full): the dataset's rules (the
bench datasets have none), conflicts between publishers (the bench has one publisher), privacy
masking (the bench datasets are not sensitive), the receipt and audit rows, the commit's WAL
flush, and NATS. Its CPU is PostgreSQL's (the postmaster and every backend) and this client's.
"""

from __future__ import annotations

import json
import time
import uuid

import asyncpg

from bench import proc_cpu
from bench.common import POPULATION, Workload
from services.search import store as search_store
from shared.contracts import RecordsChangedV1
from shared.numbers import format_number

CHUNK = 500  # ingest's chunk_rows: the pipeline applies the same chunks

_REGISTRY = """
WITH pol AS (
  SELECT coalesce(p.policy, 'langsung') AS policy, coalesce(p.outliers, true) AS outliers,
         coalesce(p.outlier_z, 3.5)::float8 AS z, coalesce(p.min_history, 4) AS min_history,
         coalesce(p.min_peers, 10) AS min_peers
  FROM (SELECT 1) one LEFT JOIN registry.verification_policies p ON p.dataset_id = $1),
parsed AS MATERIALIZED (
  SELECT f.idx, g.code AS region_code, g.level, f.period,
         jsonb_build_object($7::text, f.code) AS dims, $7::text || '=' || f.code AS dims_key,
         CASE WHEN f.value ~ '^[0-9]{1,3}(\\.[0-9]{3})+$|^[0-9]{1,15}$'
              THEN replace(f.value, '.', '')::numeric END AS v
  FROM floor_raw f
  LEFT JOIN LATERAL (SELECT code, level FROM registry.regions g
                     WHERE g.code = f.region LIMIT 1) g ON true
  WHERE f.period ~ '^[0-9]{4}$' AND f.period::int BETWEEN 1900 AND 2100
    AND f.code <> '' AND ($9::text[] IS NULL OR f.code = ANY($9::text[]))),
staged AS (
  SELECT DISTINCT ON (region_code, period, dims_key) * FROM parsed
  WHERE region_code IS NOT NULL AND v IS NOT NULL
  ORDER BY region_code, period, dims_key, idx DESC),
classified AS MATERIALIZED (
  SELECT s.*, jsonb_build_object($8::text, s.v) AS vals, r.id AS record_id,
         r.vals AS current_vals, r.publisher_id AS current_publisher, e.earlier
  FROM staged s
  LEFT JOIN LATERAL (SELECT * FROM registry.records r
                     WHERE r.dataset_id = $1 AND r.dims_key = s.dims_key
                       AND r.region_code = s.region_code AND r.period = s.period LIMIT 1) r ON true
  CROSS JOIN LATERAL (
    SELECT array_agg(x.v) AS earlier FROM (
      SELECT (h.vals ->> $8::text)::float8 AS v FROM registry.records h
      WHERE h.dataset_id = $1 AND h.dims_key = s.dims_key AND h.region_code = s.region_code
        AND h.period < s.period AND h.status = 'current'
        AND jsonb_typeof(h.vals -> $8::text) = 'number'
      ORDER BY h.period DESC LIMIT 12) x) e
  WHERE r.id IS NULL OR r.vals IS DISTINCT FROM jsonb_build_object($8::text, s.v)
     OR r.status <> 'current' OR r.publisher_id <> $2),
q AS MATERIALIZED (  -- the (period, item, level) groups without enough history
  SELECT DISTINCT c.period, c.dims_key, c.level FROM classified c, pol
  WHERE coalesce(cardinality(c.earlier), 0) < pol.min_history),
lv AS MATERIALIZED (  -- each region's level, one map (a join probed regions per peer)
  SELECT jsonb_object_agg(code, level) AS m FROM registry.regions
  WHERE level IN (SELECT level FROM q)),
peers AS MATERIALIZED (
  SELECT q.period, q.dims_key, q.level, pr.peers
  FROM lv, q CROSS JOIN LATERAL (
    SELECT array_agg(x.v) AS peers FROM (
      SELECT (r.vals ->> $8::text)::float8 AS v FROM registry.records r
      WHERE r.dataset_id = $1 AND r.dims_key = q.dims_key AND r.period = q.period
        AND r.status = 'current' AND jsonb_typeof(r.vals -> $8::text) = 'number'
        AND lv.m ->> r.region_code = q.level
      LIMIT 25) x) pr),
scored AS MATERIALIZED (
  SELECT c.*, m.basis, m.n, m.med,
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(x - m.med))
          FROM unnest(m.arr) x) AS mad
  FROM classified c LEFT JOIN peers p USING (period, dims_key, level) CROSS JOIN pol
  CROSS JOIN LATERAL (
    SELECT b.basis, b.arr, cardinality(b.arr) AS n,
           (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(b.arr) x) AS med
    FROM (SELECT CASE WHEN NOT pol.outliers THEN NULL
                      WHEN cardinality(c.earlier) >= pol.min_history THEN 'history'
                      WHEN cardinality(p.peers) >= pol.min_peers THEN 'peers' END AS basis,
                 CASE WHEN cardinality(c.earlier) >= pol.min_history THEN c.earlier
                      ELSE p.peers END AS arr) b) m),
checked AS MATERIALIZED (
  SELECT s.*, nullif(
    CASE WHEN pol.policy = 'verifikasi' THEN jsonb_build_array(jsonb_build_object(
      'kind', 'policy', 'code', 'policy_verifikasi', 'message',
      'Dataset ini memakai kebijakan verifikasi: setiap nilai baru menunggu diverifikasi '
      'walidata sebelum tampil untuk publik.')) ELSE '[]'::jsonb END
    || CASE WHEN s.mad > 0 AND abs(0.6745 * (s.v - s.med) / s.mad) > pol.z
       THEN jsonb_build_array(jsonb_build_object(
         'kind', 'outlier', 'code', 'outlier', 'measure', $8::text, 'basis', s.basis,
         'value', s.v::float8, 'median', s.med, 'compared_with', s.n,
         'expected_min', round(greatest(0, s.med - pol.z * s.mad / 0.6745)::numeric, 2),
         'expected_max', round((s.med + pol.z * s.mad / 0.6745)::numeric, 2),
         'message', format('Nilai %s %s jauh dari %s (wajar antara %s dan %s, median %s). '
                           'Periksa kembali angkanya, mis. kelebihan atau kekurangan angka nol.',
                           $8::text, pg_temp.show(s.v::float8),
                           CASE s.basis WHEN 'history'
                             THEN format('riwayat %s periode sebelumnya di wilayah ini', s.n)
                             ELSE format('%s wilayah setingkat pada periode yang sama', s.n) END,
                           pg_temp.show(round(greatest(0, s.med - pol.z * s.mad / 0.6745))),
                           pg_temp.show(round(s.med + pol.z * s.mad / 0.6745)),
                           pg_temp.show(s.med))))
       ELSE '[]'::jsonb END, '[]'::jsonb) AS reasons
  FROM scored s CROSS JOIN pol),
claim AS (
  INSERT INTO registry.applied_chunks (submission_id, chunk, summary)
  SELECT $3, $4, jsonb_build_object(
    'created', count(*) FILTER (WHERE record_id IS NULL AND reasons IS NULL),
    'updated', count(*) FILTER (WHERE record_id IS NOT NULL AND reasons IS NULL),
    'held', count(*) FILTER (WHERE reasons IS NOT NULL),
    'rejected', (SELECT count(*) FROM floor_raw) - (SELECT count(*) FROM staged))
  FROM checked
  ON CONFLICT DO NOTHING RETURNING true AS first),
held AS (
  INSERT INTO registry.held_values AS h (dataset_id, record_id, region_code, period, dims,
                                         dims_key, vals, base_vals, publisher_id,
                                         submission_id, line, reasons)
  SELECT $1, record_id, region_code, period, dims, dims_key, vals, current_vals, $2, $3,
         idx + 2, reasons
  FROM checked WHERE reasons IS NOT NULL AND EXISTS (SELECT 1 FROM claim)
  ON CONFLICT (dataset_id, region_code, period, dims_key, publisher_id)
    WHERE status = 'held'
  DO UPDATE SET vals = excluded.vals, base_vals = excluded.base_vals,
                record_id = excluded.record_id, submission_id = excluded.submission_id,
                line = excluded.line, sheet = excluded.sheet, reasons = excluded.reasons,
                created_at = now()
  RETURNING h.id, h.dataset_id, h.record_id, h.region_code, h.period, h.dims, h.publisher_id),
superseded AS (  -- a passing value replaces its publisher's own held one (a probe each)
  UPDATE registry.held_values h SET status = 'superseded', decided_at = now(),
         note = 'diganti nilai yang lebih baru dari produsen yang sama'
  FROM checked c CROSS JOIN LATERAL (
    SELECT x.id FROM registry.held_values x
    WHERE x.dataset_id = $1 AND x.region_code = c.region_code AND x.period = c.period
      AND x.dims_key = c.dims_key AND x.publisher_id = $2 AND x.status = 'held' LIMIT 1) f
  WHERE h.id = f.id AND c.reasons IS NULL AND EXISTS (SELECT 1 FROM claim)
  RETURNING h.id, h.dataset_id, h.record_id, h.region_code, h.period, h.dims, h.publisher_id),
feed AS (  -- the change feed's entry of each held value changed (migration 0010)
  INSERT INTO registry.verification_events (held_id, kind, dataset_id, record_id, region_code,
                                            period, dims, publisher_id)
  SELECT id, 'held', dataset_id, record_id, region_code, period, dims, publisher_id FROM held
  UNION ALL
  SELECT id, 'superseded', dataset_id, record_id, region_code, period, dims, publisher_id
  FROM superseded),
up AS (
  INSERT INTO registry.records AS r (id, dataset_id, region_code, period, dims_key, dims, vals,
                                     publisher_id, submission_id, hash)
  SELECT id, $1, region_code, period, dims_key, dims, vals, $2, $3,
         version_hash(NULL, id, $1, region_code, period, dims_key, 1, vals, 'current', $2, $3,
                      NULL, NULL, now())
  FROM (SELECT gen_random_uuid() AS id, * FROM checked
        WHERE reasons IS NULL AND EXISTS (SELECT 1 FROM claim)) c
  ON CONFLICT (dataset_id, region_code, period, dims_key) DO UPDATE
    SET vals = excluded.vals, version = r.version + 1, status = 'current',
        publisher_id = excluded.publisher_id, submission_id = excluded.submission_id,
        updated_at = now(), seq = nextval('registry.record_seq'),
        hash = version_hash(r.hash, r.id, r.dataset_id, r.region_code, r.period, r.dims_key,
                            r.version + 1, excluded.vals, 'current', excluded.publisher_id,
                            excluded.submission_id, NULL, NULL, now())
    WHERE r.vals IS DISTINCT FROM excluded.vals OR r.status <> 'current'
       OR r.publisher_id IS DISTINCT FROM excluded.publisher_id
  RETURNING r.id, r.region_code, r.period, r.dims, r.vals, r.version, r.status, r.publisher_id,
            r.submission_id, r.updated_at, r.seq, r.hash),
hist AS (
  INSERT INTO registry.record_versions (record_id, version, vals, status, publisher_id,
                                        submission_id, recorded_at, seq, reason, hash)
  SELECT id, version, vals, status, publisher_id, submission_id, updated_at, seq, NULL, hash
  FROM up),
event AS (
  INSERT INTO registry.outbox (event_id, subject, payload)
  SELECT e.id, $6::text, jsonb_build_object(
    'event_id', e.id, 'type', $6::text, 'occurred_at', clock_timestamp(), 'request_id', NULL,
    'data', jsonb_build_object('records', jsonb_agg(jsonb_build_object(
      'record_id', u.id, 'dataset', $5::text, 'region_code', u.region_code, 'period', u.period,
      'dimensions', u.dims, 'values', u.vals, 'version', u.version, 'status', u.status,
      'publisher_id', u.publisher_id, 'publisher_name', p.name,
      'submission_id', u.submission_id, 'changed_at', u.updated_at,
      'sent_at', clock_timestamp(), 'seq', u.seq,
      -- a record with a newer value held for the walidata is marked (one probe each)
      'verification_status', CASE WHEN EXISTS (
          SELECT 1 FROM registry.held_values h WHERE h.dataset_id = $1 AND h.status = 'held'
            AND h.region_code = u.region_code AND h.period = u.period
            AND h.dims_key = $7::text || '=' || (u.dims ->> $7::text))
        THEN 'sedang_diverifikasi' ELSE 'terverifikasi' END))))
  FROM (SELECT gen_random_uuid() AS id) e CROSS JOIN up u
  LEFT JOIN registry.publishers p ON p.id = u.publisher_id
  GROUP BY e.id
  RETURNING event_id)
SELECT (SELECT event_id FROM event) AS event_id, (SELECT count(*) FROM up) AS applied,
       (SELECT count(*) FROM held) AS held"""

# a number in a message as outliers.show writes it (1.010; 3.512,5), for this session only
_SHOW = """
CREATE FUNCTION pg_temp.show(x float8) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT translate(CASE WHEN x = trunc(x) THEN to_char(x::numeric, 'FM999,999,999,999,999,990')
                        ELSE to_char(round(x::numeric, 2), 'FM999,999,999,999,999,990.99') END,
                   ',.', '.,') $$"""

# search's side, from the envelope as the registry wrote it (what search would receive)
_SEARCH_RECORDS = """
INSERT INTO search.records AS x (record_id, dataset, region_code, period, dimensions, "values",
                                 version, status, publisher_id, changed_at,
                                 verification_status, sent_at)
SELECT e.record_id, e.dataset, e.region_code, e.period, e.dimensions, e."values", e.version,
       e.status, e.publisher_id, e.changed_at, e.verification_status, e.sent_at
FROM registry.outbox o CROSS JOIN LATERAL jsonb_to_recordset(o.payload -> 'data' -> 'records')
  AS e(record_id uuid, dataset text, region_code text, period text, dimensions jsonb,
       "values" jsonb, version int, status text, publisher_id text, changed_at timestamptz,
       verification_status text, sent_at timestamptz)
WHERE o.event_id = $1
ON CONFLICT (record_id) DO UPDATE SET
  "values" = EXCLUDED."values", version = EXCLUDED.version, status = EXCLUDED.status,
  publisher_id = EXCLUDED.publisher_id, changed_at = EXCLUDED.changed_at,
  verification_status = EXCLUDED.verification_status, sent_at = EXCLUDED.sent_at
WHERE x.version < EXCLUDED.version
RETURNING record_id"""


async def _apply_chunk(conn: asyncpg.Connection, dataset_id: int, work: Workload,
                       publisher: str, chunk: int, rows: list[tuple], capture: dict | None = None
                       ) -> tuple[int, int]:
    """One chunk, set-based, rolled back; returns (applied, held). With ``capture``, what the
    chunk wrote (``outputs``) is added to it before the rollback."""
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("SET LOCAL search_path TO registry, public")
        await conn.copy_records_to_table("floor_raw", records=rows,
                                         columns=["idx", "region", "period", "code", "value"])
        out = await conn.fetchrow(_REGISTRY, dataset_id, publisher, uuid.uuid4(), chunk,
                                  work.dataset, RecordsChangedV1.subject, work.dimension,
                                  work.measure, list(work.codes) if work.closed else None)
        if out["event_id"] is not None:
            await conn.execute("SET LOCAL search_path TO search")
            await search_store.lock_shared(conn)
            ids = [r["record_id"] for r in await conn.fetch(_SEARCH_RECORDS, out["event_id"])]
            await search_store.build_record_docs(conn, record_ids=ids)
            await search_store.bump_index_version(conn)
        if capture is not None:
            for name, found in (await outputs(conn, dataset_id, [r[2] for r in rows])).items():
                capture.setdefault(name, {}).update(found)
        return out["applied"], out["held"]
    finally:
        await tx.rollback()


async def outputs(conn: asyncpg.Connection, dataset_id: int, periods: list[str]) -> dict:
    """What the registry and search hold for the dataset's ``periods``, by record key and
    without what differs by design between two writes of the same rows (ids, times, sequence
    numbers, hashes, submissions): to hold the floor's output to the pipeline's."""
    records = await conn.fetch(
        """SELECT region_code, period, dims_key, dims::text, vals::text, version, status,
                  publisher_id FROM registry.records
           WHERE dataset_id = $1 AND period = ANY($2::text[])""", dataset_id, periods)
    held = await conn.fetch(
        """SELECT region_code, period, dims_key, dims::text, vals::text, base_vals::text,
                  publisher_id, reasons::text, status FROM registry.held_values
           WHERE dataset_id = $1 AND period = ANY($2::text[])""", dataset_id, periods)
    documents = await conn.fetch(
        """SELECT d.region_code, d.period, r.dims_key, d.kind, d.version, d.title, d.name,
                  d.aliases, d.body, d.tsv::text AS tsv, d.dataset, d.topic, d.publisher,
                  d.region_name, d.kecamatan_code, d.kecamatan_name, d."values"::text,
                  d.static_rank, d.verification_status
           FROM registry.records r JOIN search.documents d ON d.doc_id = 'record:' || r.id
           WHERE r.dataset_id = $1 AND r.period = ANY($2::text[])""", dataset_id, periods)

    def by_key(rows) -> dict:
        return {(r["region_code"], r["period"], r["dims_key"]): dict(r) for r in rows}
    return {"records": by_key(records), "held": by_key(held), "documents": by_key(documents)}


async def measure(database_url: str, rows: list[dict], postgres_pid: int | None,
                  workload: Workload = POPULATION, publisher: str = "disdukcapil",
                  capture: dict | None = None) -> dict:
    """The floor for ``rows`` of ``workload`` (sample rows: region, period, the dimension's
    code, the measure; the number written with thousands dots, as a village operator types
    it) from ``publisher``, applied in ``CHUNK``-row chunks and rolled back: rows per second,
    CPU per 1,000 rows (PostgreSQL's with ``postgres_pid``, and this client's), and how many
    rows were applied and held.
    ``capture`` (a dict) receives what the chunks wrote (``outputs``), read inside the timed
    loop: for tests, not for figures."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(_SHOW)
        await conn.execute(
            "CREATE TEMP TABLE floor_raw (idx int, region text, period text, code text, "
            "value text) ON COMMIT DELETE ROWS")
        dataset_id = await conn.fetchval("SELECT id FROM registry.datasets WHERE slug = $1",
                                         workload.dataset)
        cells = [(i, r["region"], r["period"], r[workload.dimension],
                  format_number(r[workload.measure], "id")) for i, r in enumerate(rows)]
        roots = {"postgres": postgres_pid} if postgres_pid else {}
        before = proc_cpu.snapshot(roots, "floor_client")
        applied = held = 0
        started = time.perf_counter()
        for start in range(0, len(cells), CHUNK):
            a, h = await _apply_chunk(conn, dataset_id, workload, publisher, start // CHUNK,
                                      cells[start:start + CHUNK], capture)
            applied, held = applied + a, held + h
        elapsed = time.perf_counter() - started
        after = proc_cpu.snapshot(roots, "floor_client")
    finally:
        await conn.close()
    return {"rows": len(rows), "chunk_rows": CHUNK, "applied": applied, "held": held,
            "rows_per_second": round(len(rows) / elapsed, 1),
            "cpu_ms_per_1000_rows": proc_cpu.per_thousand_rows(before, after, len(rows)),
            "what": "one COPY + one registry statement + search's own document statement per "
                    "chunk, rolled back (bench/pipeline_floor.py says what it leaves out)"}


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m bench.pipeline_floor URL
    import asyncio
    import sys

    from bench.bench_e2e import fresh_start_year, villages
    from bench.common import sample_rows

    async def _main(url: str, n: int) -> None:
        places = villages()
        rows = sample_rows(n, places, await fresh_start_year(url, n, len(places)))
        print(json.dumps(await measure(url, rows, None), indent=2))

    asyncio.run(_main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5000))
