"""Outliers: a staged value far from its region's earlier periods, or (without enough history)
from the same level's regions in the same period.

Modified z-score (Iglewicz and Hoaglin): M = 0.6745 (x - median) / MAD, flagged when |M| is
above the dataset's threshold (3.5 by default), only with at least ``min_history`` earlier
periods or ``min_peers`` peers. A MAD of 0 (every earlier value the same) says nothing about the
spread, so no flag. The history is the better comparison for one region; peers are the
fallback for a region without it. One query per chunk, set-based.
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from services.registry.numbers import format_number

SQL = """
WITH s AS (
  SELECT i.idx, i.region_code, i.period, i.dims_key, m.name AS measure,
         (i.vals ->> m.name)::numeric AS v
  FROM incoming i CROSS JOIN unnest($2::text[]) AS m(name)
  WHERE i.idx = ANY($3::int[]) AND jsonb_typeof(i.vals -> m.name) = 'number'),
hist AS (
  SELECT s.idx, s.measure, s.v, (r.vals ->> s.measure)::numeric AS h
  FROM s JOIN records r ON r.dataset_id = $1 AND r.region_code = s.region_code
       AND r.dims_key = s.dims_key AND r.period < s.period AND r.status = 'current'
  WHERE jsonb_typeof(r.vals -> s.measure) = 'number'),
hmed AS (
  SELECT idx, measure, v, percentile_cont(0.5) WITHIN GROUP (ORDER BY h) AS med,
         count(*) AS n
  FROM hist GROUP BY idx, measure, v HAVING count(*) >= $5),
hstat AS (
  SELECT x.idx, x.measure, x.v, x.med, x.n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(h.h - x.med)) AS mad
  FROM hmed x JOIN hist h ON h.idx = x.idx AND h.measure = x.measure
  GROUP BY x.idx, x.measure, x.v, x.med, x.n),
lone AS (  -- staged values without enough history: compared with their peers
  SELECT s.*, g.level FROM s JOIN regions g ON g.code = s.region_code
  WHERE NOT EXISTS (SELECT 1 FROM hmed x WHERE x.idx = s.idx AND x.measure = s.measure)),
grp AS (SELECT DISTINCT period, dims_key, level, measure FROM lone),
peer AS (
  SELECT grp.period, grp.dims_key, grp.level, grp.measure, (r.vals ->> grp.measure)::numeric AS p
  FROM grp JOIN records r ON r.dataset_id = $1 AND r.dims_key = grp.dims_key
       AND r.period = grp.period AND r.status = 'current'
  JOIN regions g ON g.code = r.region_code AND g.level = grp.level
  WHERE jsonb_typeof(r.vals -> grp.measure) = 'number'),
pmed AS (
  SELECT period, dims_key, level, measure, count(*) AS n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY p) AS med
  FROM peer GROUP BY 1, 2, 3, 4 HAVING count(*) >= $6),
pstat AS (
  SELECT x.period, x.dims_key, x.level, x.measure, x.med, x.n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY abs(p.p - x.med)) AS mad
  FROM pmed x JOIN peer p USING (period, dims_key, level, measure)
  GROUP BY 1, 2, 3, 4, 5, 6),
found AS (
  SELECT 'history' AS basis, idx, measure, v, med, mad, n FROM hstat
  UNION ALL
  SELECT 'peers', l.idx, l.measure, l.v, p.med, p.mad, p.n
  FROM lone l JOIN pstat p USING (period, dims_key, level, measure))
SELECT basis, idx, measure, v::float8 AS v, med::float8 AS med, mad::float8 AS mad, n
FROM found WHERE mad > 0 AND abs(0.6745 * (v - med) / mad) > $4"""


async def check_chunk(conn: asyncpg.Connection, dataset: dict, policy: dict,
                      measures: list[str], idxs: list[int]) -> dict[int, list[dict]]:
    """Staged rows ``idxs`` with an outlying measure, each with its expected range."""
    if not policy["outliers"] or not measures or not idxs:
        return {}
    rows = await conn.fetch(SQL, dataset["id"], measures, idxs, policy["outlier_z"],
                            policy["min_history"], policy["min_peers"])
    found: dict[int, list[dict]] = {}
    for r in rows:
        found.setdefault(r["idx"], []).append(reason(dict(r), policy["outlier_z"]))
    return found


def reason(r: dict, z: float) -> dict:
    """The flag with its expected range: median +/- z MAD / 0.6745, never below 0."""
    half = z * r["mad"] / 0.6745
    low, high = max(0.0, r["med"] - half), r["med"] + half
    where = (f"riwayat {r['n']} periode sebelumnya di wilayah ini" if r["basis"] == "history"
             else f"{r['n']} wilayah setingkat pada periode yang sama")
    return {"kind": "outlier", "code": "outlier", "measure": r["measure"],
            "basis": r["basis"], "value": r["v"], "median": r["med"],
            "expected_min": round(low, 2), "expected_max": round(high, 2), "compared_with": r["n"],
            "message": f"Nilai {r['measure']} {show(r['v'])} jauh dari {where} "
                       f"(wajar antara {show(round(low))} dan "
                       f"{show(round(high))}, median {show(r['med'])}). "
                       "Periksa kembali angkanya, mis. kelebihan atau kekurangan angka nol."}


def show(x: float) -> str:
    """A number as a village operator reads it: 40.000, 3.512,5."""
    value = Decimal(int(x)) if float(x).is_integer() else Decimal(str(round(x, 2)))
    return format_number(value, "id")
