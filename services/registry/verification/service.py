"""Verification use cases: the policy, the rules, the walidata's queue and its decisions."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from services.registry.datasets import service as datasets_service
from services.registry.datasets.service import get_dataset
from services.registry.verification import rules_lang, rules_store, store
from shared.auth import Principal
from shared.errors import NotFound
from shared.pagination import decode_cursor, page

BULK_MAX = 5000


async def get_policy(conn: asyncpg.Connection, slug: str) -> dict:
    dataset = await get_dataset(conn, slug)
    return await store.get_policy(conn, dataset["id"])


async def put_policy(conn: asyncpg.Connection, principal: Principal, slug: str, p: dict) -> dict:
    dataset = await get_dataset(conn, slug)
    return await store.put_policy(conn, dataset["id"], p, principal.publisher_id)


async def list_rules(conn: asyncpg.Connection, slug: str) -> dict:
    """Every rule of the dataset (a short list: one page, no cursor)."""
    dataset = await get_dataset(conn, slug)
    return {"items": await store.list_rules(conn, dataset["id"]), "next_cursor": None}


async def create_rule(conn: asyncpg.Connection, principal: Principal, slug: str, r: dict
                      ) -> dict:
    dataset = await get_dataset(conn, slug)
    r["expression"] = rules_lang.parse_for(dataset, r["expression"]).expression
    return await store.insert_rule(conn, dataset["id"], r, principal.publisher_id)


async def update_rule(conn: asyncpg.Connection, slug: str, rule_id: int, r: dict) -> dict:
    dataset = await get_dataset(conn, slug)
    r["expression"] = rules_lang.parse_for(dataset, r["expression"]).expression
    updated = await store.update_rule(conn, dataset["id"], rule_id, r)
    if updated is None:
        raise NotFound(f"Aturan {rule_id} tidak ada di dataset '{slug}'.", code="rule_not_found")
    return updated


async def delete_rule(conn: asyncpg.Connection, slug: str, rule_id: int) -> dict:
    dataset = await get_dataset(conn, slug)
    deleted = await store.delete_rule(conn, dataset["id"], rule_id)
    if deleted is None:
        raise NotFound(f"Aturan {rule_id} tidak ada di dataset '{slug}'.", code="rule_not_found")
    return deleted


async def evaluate(conn: asyncpg.Connection, slug: str, limit: int) -> dict:
    """Every current record of the dataset against its rules, on demand."""
    dataset = await get_dataset(conn, slug)
    rule_list = await store.list_rules(conn, dataset["id"])
    total, items = await rules_store.check_dataset(conn, dataset, rule_list, limit)
    return {"dataset": slug, "rules": len(rule_list), "failing_records": total, "items": items}


# --- the queue ----------------------------------------------------------------------------

async def _filters(conn: asyncpg.Connection, principal: Principal, q: dict) -> dict:
    filters = {k: v for k, v in q.items() if v is not None}
    if q.get("dataset"):
        filters["dataset_id"] = (await get_dataset(conn, q["dataset"]))["id"]
    if not principal.is_steward:
        filters["publisher_id"] = principal.publisher_id  # a publisher sees its own only
    return filters


def held_public(row: dict, effect: dict | None) -> dict:
    return {"id": row["id"], "dataset": row["dataset"], "record_id": row["record_id"],
            "region_code": row["region_code"], "region_name": row["region_name"],
            "kecamatan": row["kecamatan"], "period": row["period"], "dimensions": row["dims"],
            "proposed": row["vals"], "public": row["public_vals"],
            "publisher_id": row["publisher_id"], "publisher_name": row["publisher_name"],
            "submission_id": row["submission_id"], "line": row["line"], "sheet": row["sheet"],
            "reasons": row["reasons"], "status": row["status"], "note": row["note"],
            "decided_by": row["decided_by"], "decided_at": row["decided_at"],
            "created_at": row["created_at"], "conflict_id": row["conflict_id"],
            "reporting": effect}


async def queue(conn: asyncpg.Connection, principal: Principal, q: dict, cursor: str | None,
                limit: int) -> dict:
    filters = await _filters(conn, principal, q)
    after = decode_cursor(cursor, 2, [datetime.fromisoformat, uuid.UUID]) if cursor else None
    rows = await store.list_held(conn, filters, after, limit + 1)
    rows, next_cursor = page(rows, limit, lambda r: (r["created_at"].isoformat(), str(r["id"])))
    effects = await _reporting_effects(conn, rows)
    return {"items": [held_public(r, effects.get((r["dataset_id"], r["period"],
                                                  r["kecamatan"]))) for r in rows],
            "next_cursor": next_cursor}


async def _reporting_effects(conn: asyncpg.Connection, rows: list[dict]) -> dict:
    """How releasing the held values would change each kecamatan's reporting rate."""
    groups: dict[tuple, set[str]] = {}
    for r in rows:
        if r["status"] == "held":
            groups.setdefault((r["dataset_id"], r["dataset"], r["period"]), set()).add(
                r["kecamatan"])
    out = {}
    for (dataset_id, slug, period), kecs in groups.items():
        dataset = await datasets_service.get_dataset_row(conn, slug)
        levels = dataset["schema"].levels
        for kec, c in (await store.reporting(conn, dataset_id, period, levels,
                                             sorted(kecs))).items():
            out[(dataset_id, period, kec)] = {
                "kecamatan": kec, "expected": c["expected"], "reporting_now": c["now"],
                "reporting_after": c["after"],
                "rate_now": round(c["now"] / c["expected"], 4) if c["expected"] else None,
                "rate_after": round(c["after"] / c["expected"], 4) if c["expected"] else None}
    return out


async def mark_unverified(conn: asyncpg.Connection, dataset_id: int, period: str,
                          units: list[dict]) -> list[dict]:
    """Completeness: a unit with a held value counts as reported, marked unverified."""
    held = await store.held_regions(conn, dataset_id, period)
    for u in units:
        if u["code"] in held:
            u["reported"], u["unverified"] = True, True
    return units


async def return_with_record(conn: asyncpg.Connection, record_id: uuid.UUID, by: str,
                             note: str) -> int:
    """A withdrawn record's open proposals go back to their publishers with the note."""
    return await store.return_with_record(conn, record_id, by, note)


from services.registry.verification.screen import screen  # noqa: E402,F401 - the apply's check
