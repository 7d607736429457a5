"""Validation rules as SQL: compiled (``rules_lang``) to one set-based query per chunk (or per
dataset on demand), each failing row named with the rules it breaks."""

from __future__ import annotations

import json

import asyncpg

from services.registry.verification import store
from services.registry.verification.rules_lang import (
    Lookup, RuleError, compile_rule, numeric_measures, parse_for,
)

VALUE = ("CASE WHEN jsonb_typeof(x.vals -> {m}::text) = 'number' "
         "THEN (x.vals ->> {m}::text)::numeric END")
PARENT = "(SELECT parent_code FROM regions WHERE code = i.region_code)"


def _lookup(with_chunk: bool):
    """Another row's value: the chunk's own row for that key when it has one (the value about
    to be applied), else the current master record."""
    def lookup(ref: Lookup, params: list) -> str:
        params.append(ref.measure)
        m = f"${len(params)}"
        if ref.kind == "sibling":
            params.append(json.dumps(ref.dims))
            dims, region = f"(i.dims || ${len(params)}::text::jsonb)", "i.region_code"
        else:
            dims, region = "i.dims", PARENT
        master = (f"SELECT vals, 1 AS pri, 0 AS idx FROM records x WHERE x.dataset_id = $1 "
                  f"AND x.region_code = {region} AND x.period = i.period AND x.dims = {dims} "
                  "AND x.status = 'current'")
        chunk = (f"SELECT vals, 0 AS pri, idx FROM incoming x WHERE x.region_code = {region} "
                 f"AND x.period = i.period AND x.dims = {dims} UNION ALL " if with_chunk else "")
        return (f"(SELECT {VALUE.format(m=m)} FROM ({chunk}{master} "
                "ORDER BY pri, idx DESC LIMIT 1) x)")
    return lookup


def _failed_array(dataset: dict, rules: list[dict], params: list, with_chunk: bool) -> str:
    measures = numeric_measures(dataset["schema"])
    cases = []
    for n, rule in enumerate(rules):
        try:
            sql = compile_rule(parse_for(dataset, rule["expression"]), measures, params,
                               _lookup(with_chunk))
        except RuleError:  # the schema changed under the rule: it no longer applies
            continue
        cases.append(f"CASE WHEN ({sql}) IS FALSE THEN {n} END")
    if not cases:
        return "ARRAY[]::int[]"
    return f"array_remove(ARRAY[{', '.join(cases)}]::int[], NULL)"


def reason(rule: dict) -> dict:
    return {"kind": "rule", "code": "rule_failed", "rule_id": rule["id"],
            "importance": rule["importance"], "expression": rule["expression"],
            "message": rule["message"]}


async def check_chunk(conn: asyncpg.Connection, dataset: dict, rules: list[dict],
                      idxs: list[int]) -> dict[int, list[dict]]:
    """Staged rows ``idxs`` that break a rule, with the rules they break: one query."""
    if not rules or not idxs:
        return {}
    params: list = [dataset["id"], idxs]
    failed = _failed_array(dataset, rules, params, with_chunk=True)
    rows = await store.failing_rows(
        conn, f"""SELECT idx, failed FROM (SELECT i.idx, {failed} AS failed FROM incoming i
                  WHERE i.idx = ANY($2::int[]) AND $1::bigint IS NOT NULL) q
                  WHERE cardinality(failed) > 0""", params)
    return {r["idx"]: [reason(rules[n]) for n in r["failed"]] for r in rows}


async def check_dataset(conn: asyncpg.Connection, dataset: dict, rules: list[dict],
                        limit: int) -> tuple[int, list[dict]]:
    """Every current record of the dataset against every rule (on demand): how many records
    break one, and the first ``limit`` of them with their rules."""
    if not rules:
        return 0, []
    params: list = [dataset["id"], limit]
    failed = _failed_array(dataset, rules, params, with_chunk=False)
    rows = await store.failing_rows(
        conn, f"""SELECT *, count(*) OVER () AS total FROM (
                    SELECT i.id, i.region_code, i.period, i.dims, i.vals, {failed} AS failed
                    FROM records i WHERE i.dataset_id = $1 AND i.status = 'current') q
                  WHERE cardinality(failed) > 0
                  ORDER BY period, region_code, id LIMIT $2""", params)
    total = rows[0]["total"] if rows else 0
    return total, [{"record_id": r["id"], "region_code": r["region_code"],
                    "period": r["period"], "dimensions": r["dims"], "values": r["vals"],
                    "reasons": [reason(rules[n]) for n in r["failed"]]} for r in rows]
