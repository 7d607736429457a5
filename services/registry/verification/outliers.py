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
the level in turn: one index descent per peer, ~4,000 per chunk). Histories and peers come
back in one query: on a loaded machine each round trip costs a chunk milliseconds.
"""

from __future__ import annotations

from decimal import Decimal

import asyncpg

from services.registry.verification import store
from shared.numbers import format_number

PEER_SAMPLE = 25  # peers read per group: enough for a median and a MAD, bounded per chunk
# the latest earlier periods a value is compared with: recent history is the relevant one, and
# reading all of it made a row's check cost grow with every year stored (bench_e2e: PostgreSQL's
# CPU per row doubled run after run; 12 periods kept it flat)
HISTORY_PERIODS = 12


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
    values, their histories and (without enough history) their peers come back in one query;
    the medians are taken here."""
    if not policy["outliers"] or not measures or not idxs:
        return {}
    z, found = float(policy["outlier_z"]), {}
    for r in await store.values_history_peers(
            conn, dataset["id"], measures, idxs, policy["min_history"],
            max(PEER_SAMPLE, policy["min_peers"]), max(HISTORY_PERIODS, policy["min_history"])):
        earlier, peers = r["earlier"] or [], r["peers"] or []
        if len(earlier) >= policy["min_history"]:
            hit = flag(r["v"], earlier, z, "history")
        else:
            hit = flag(r["v"], peers, z, "peers") if len(peers) >= policy["min_peers"] else None
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
