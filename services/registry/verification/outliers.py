"""Outliers: a staged value far from its region's earlier periods, or (without enough history)
from the same level's regions in the same period.

Modified z-score (Iglewicz and Hoaglin): M = 0.6745 (x - median) / MAD, flagged when |M| is
above the dataset's threshold (3.5 by default), only with at least ``min_history`` earlier
periods or ``min_peers`` peers. A MAD of 0 (every earlier value the same) says nothing about the
spread, so no flag. The history is the better comparison for one region; peers are the
fallback for a region without it. Peers are a sample of at most PEER_SAMPLE regions of the
same level per (period, item): the peer check would otherwise read a whole level of records per
item, which is what made a chunk slow when its rows spread over many items.

Both reads follow the records' key (dataset_id, dims_key, region_code, period), migration
0009: the history of one key is one range of it, and so are the regions of one item, read with
the period checked in the index until the sample is full. A region's level is looked up in a
map built once per query (a join to ``regions`` per peer made the planner probe each region of
the level in turn: one index descent per peer, ~4,000 per chunk).
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from services.registry.numbers import format_number

VALUES_AND_HISTORY = """
SELECT i.idx, m.name AS measure, (i.vals ->> m.name)::float8 AS v, i.period, i.dims_key,
       g.level, h.earlier
FROM incoming i CROSS JOIN unnest($2::text[]) AS m(name)
JOIN regions g ON g.code = i.region_code
CROSS JOIN LATERAL (
  SELECT array_agg((r.vals ->> m.name)::float8) AS earlier FROM records r
  WHERE r.dataset_id = $1 AND r.region_code = i.region_code AND r.dims_key = i.dims_key
    AND r.period < i.period AND r.status = 'current'
    AND jsonb_typeof(r.vals -> m.name) = 'number') h
WHERE i.idx = ANY($3::int[]) AND jsonb_typeof(i.vals -> m.name) = 'number'"""

PEER_SAMPLE = 25  # peers read per group: enough for a median and a MAD, bounded per chunk

PEERS = """
WITH lv AS MATERIALIZED (SELECT jsonb_object_agg(code, level) AS m FROM regions
                         WHERE level = ANY($4::text[]))
SELECT q.period, q.dims_key, q.level, q.measure, p.peers
FROM lv, unnest($2::text[], $3::text[], $4::text[], $5::text[])
         AS q(period, dims_key, level, measure)
CROSS JOIN LATERAL (
  SELECT array_agg(s.v) AS peers FROM (
    SELECT (r.vals ->> q.measure)::float8 AS v FROM records r
    WHERE r.dataset_id = $1 AND r.dims_key = q.dims_key AND r.period = q.period
      AND r.status = 'current' AND jsonb_typeof(r.vals -> q.measure) = 'number'
      AND lv.m ->> r.region_code = q.level
    LIMIT $6) s) p"""


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def flag(v: float, values: list[float], z: float, basis: str) -> dict | None:
    """The modified z-score of ``v`` against ``values``; the flag when above ``z``."""
    med = median(values)
    mad = median([abs(x - med) for x in values])
    if mad > 0 and abs(0.6745 * (v - med) / mad) > z:
        return {"basis": basis, "v": v, "med": med, "mad": mad, "n": len(values)}
    return None


async def check_chunk(conn: asyncpg.Connection, dataset: dict, policy: dict,
                      measures: list[str], idxs: list[int]) -> dict[int, list[dict]]:
    """Staged rows ``idxs`` with an outlying measure, each with its expected range: the
    values and their histories come back in one query, the peers of the rows without enough
    history in a second; the medians are taken here."""
    if not policy["outliers"] or not measures or not idxs:
        return {}
    z, found, lone = float(policy["outlier_z"]), {}, []
    for r in await conn.fetch(VALUES_AND_HISTORY, dataset["id"], measures, idxs):
        earlier = r["earlier"] or []
        if len(earlier) < policy["min_history"]:
            lone.append(r)
        elif hit := flag(r["v"], earlier, z, "history"):
            found.setdefault(r["idx"], []).append(reason({"measure": r["measure"], **hit}, z))
    if not lone:
        return found
    groups = sorted({(r["period"], r["dims_key"], r["level"], r["measure"]) for r in lone})
    peers = {(p["period"], p["dims_key"], p["level"], p["measure"]): p["peers"]
             for p in await conn.fetch(PEERS, dataset["id"], *map(list, zip(*groups)),
                                       max(PEER_SAMPLE, policy["min_peers"]))}
    for r in lone:
        values = peers.get((r["period"], r["dims_key"], r["level"], r["measure"])) or []
        hit = flag(r["v"], values, z, "peers") if len(values) >= policy["min_peers"] else None
        if hit:
            found.setdefault(r["idx"], []).append(reason({"measure": r["measure"], **hit}, z))
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
