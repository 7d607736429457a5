"""The check a chunk passes before its values are applied (the one call apply_rows makes).

Rows about to change a master value (created, updated, or proposed in a conflict) are checked
against the dataset's rules and for outliers, set-based over the staged chunk, inside the
chunk's transaction. Under the ``verifikasi`` policy every one of them is held. A held row is
not applied: it is stored as a pending proposal, so every public read keeps the last verified
value; the walidata verifies (applies it as a new version) or returns it.
"""

from __future__ import annotations

import uuid

import asyncpg

from services.registry.verification import marks, outliers, rules_store, store
from services.registry.verification.rules_lang import numeric_measures

POLICY_REASON = {"kind": "policy", "code": "policy_verifikasi",
                 "message": "Dataset ini memakai kebijakan verifikasi: setiap nilai baru "
                            "menunggu diverifikasi walidata sebelum tampil untuk publik."}


async def reasons_for(conn: asyncpg.Connection, dataset: dict, idxs: list[int]
                      ) -> tuple[dict[int, list[dict]], bool]:
    """Why each staged row ``idxs`` would be held (no entry: it passes), and whether the
    dataset has held values at all."""
    policy, rule_list = await store.checks_of(conn, dataset["id"])
    found: dict[int, list[dict]] = {}
    if policy["policy"] == "verifikasi":
        found = {i: [POLICY_REASON] for i in idxs}
    for source in (await rules_store.check_chunk(conn, dataset, rule_list, idxs),
                   await outliers.check_chunk(conn, dataset, policy,
                                              sorted(numeric_measures(dataset["schema"])),
                                              idxs)):
        for idx, why in source.items():
            found.setdefault(idx, []).extend(why)
    return found, policy["any_held"]


async def screen(conn: asyncpg.Connection, *, dataset: dict, publisher_id: str,
                 submission_id: uuid.UUID | None, staged: list, to_apply: list[int],
                 to_conflict: list[int], outcome, places: dict[int, dict], dry_run: bool
                 ) -> list[int]:
    """Hold what fails; returns the rows still to apply. Updates the outcome's counts
    (``held``), its diff (change 'held' with the reasons) and ``outcome.held`` (the rows)."""
    outcome.held = []
    found, any_held = await reasons_for(conn, dataset, to_apply + to_conflict)
    if not found:
        if not dry_run and any_held:
            await store.supersede_passed(conn, dataset["id"], to_apply, publisher_id)
        return to_apply
    creating = {r["idx"] for r in staged if r["record_id"] is None}
    for idx in to_apply:
        if idx in found:
            outcome.counts.held += 1
            if idx in creating:
                outcome.counts.created -= 1
            else:
                outcome.counts.updated -= 1
    conflicting = set(to_conflict)
    keys = {r["idx"]: r for r in staged}
    for idx in sorted(found):
        row = keys[idx]
        outcome.held.append({"index": idx, **places[idx], "region_code": row["region_code"],
                             "period": row["period"], "in_conflict": idx in conflicting,
                             "reasons": found[idx]})
    for item in outcome.diff:
        if item["index"] in found and item["change"] != "conflict":
            item["change"] = "held"
        if item["index"] in found:
            item["reasons"] = found[item["index"]]
    passing = [i for i in to_apply if i not in found]
    if not dry_run:  # (a held row for the same key is refreshed by hold_staged)
        await store.hold_staged(conn, dataset["id"],
                                [(i, {"reasons": found[i], "place": places[i]}) for i in found],
                                publisher_id, submission_id)
        await marks.resend_current(conn, dataset["id"], [keys[i] for i in found])  # the mark
        await store.supersede_passed(conn, dataset["id"], passing, publisher_id)
    return passing
