"""Region use cases: the Kemendagri tree and its aliases, resolving a cell to a code, imports
of new codes, renames and retirements, and the walidata's review of operators' aliases.
Every function runs in the caller's transaction; changes go out through the outbox."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

import asyncpg

from services.registry.regions import changes as region_changes
from services.registry.regions import reference
from services.registry.audit import service as audit
from services.registry.datasets import service as datasets_service
from services.registry.settings import SCHEMA
from services.registry.regions import store
from services.registry.regions.index import RegionIndex, normalize_code, normalize_name
from shared import clock, outbox
from shared.auth import Principal
from shared.contracts import RegionsChangedV1, RegionV1
from shared.errors import Conflict, NotFound, Unprocessable
from shared.pagination import decode_cursor, page


# (connection, its index once read) while a caller shares one reading of the region table
_shared: ContextVar[tuple[asyncpg.Connection, list[RegionIndex]] | None] = ContextVar(
    "shared_region_index", default=None)


@contextmanager
def shared_region_index(conn: asyncpg.Connection) -> Iterator[None]:
    """Inside this block, ``region_index(conn)`` reads the regions once: the chunks of one fetch,
    applied in one transaction, resolve against one reading of the table (the registry's
    consumer; a region import committed meanwhile is seen from the next fetch on)."""
    token = _shared.set((conn, []))
    try:
        yield
    finally:
        _shared.reset(token)


async def region_index(conn: asyncpg.Connection) -> RegionIndex:
    shared = _shared.get()
    if shared is not None and shared[0] is conn and shared[1]:
        return shared[1][0]
    index = RegionIndex.build(await store.load_regions(conn),
                              await store.load_active_aliases(conn),
                              await store.load_lineage(conn))
    if shared is not None and shared[0] is conn:
        shared[1].append(index)
    return index


async def resolve_cells(conn: asyncpg.Connection, dataset_slug: str | None,
                        values: list[str]) -> dict[str, str | None]:
    dataset = await datasets_service.get_dataset_row(conn, dataset_slug) if dataset_slug else None
    levels = set(dataset["schema"].levels) if dataset else None
    regions = await region_index(conn)
    return {value: regions.resolve(value, levels)[0] for value in values}  # as of today


async def region_events(conn: asyncpg.Connection, codes: list[str] | None = None
                        ) -> list[RegionV1]:
    regions = await store.all_regions(conn)
    names = {r["code"]: r["name"] for r in regions}
    aliases = await store.aliases_by_region(conn)
    lineage = await region_index(conn)
    return [
        RegionV1(code=r["code"], name=r["name"], level=r["level"], parent_code=r["parent_code"],
                 path_codes=list(r["path"]), path_names=[names.get(c, c) for c in r["path"]],
                 aliases=aliases.get(r["code"], []), version=r["version"],
                 valid_from=str(r["valid_from"]) if r["valid_from"] else None,
                 valid_until=str(r["valid_until"]) if r["valid_until"] else None,
                 successor_codes=lineage.next_codes(r["code"]),
                 successor_names=[names.get(c, c) for c in lineage.next_codes(r["code"])])
        for r in regions if codes is None or r["code"] in codes
    ]


async def publish_regions(conn: asyncpg.Connection, codes: list[str] | None = None) -> None:
    """Publish regions as they are now (the store gives every change readers see a new
    version, the aliases included)."""
    events = await region_events(conn, codes)
    for start in range(0, len(events), 200):
        await outbox.add(conn, SCHEMA, RegionsChangedV1(regions=events[start:start + 200]))


async def list_regions(conn: asyncpg.Connection, *, tree: bool) -> tuple[list[dict], int]:
    """Every region in code order, or (``tree``) the roots with their children nested; and
    how many regions there are."""
    items = [{"code": r["code"], "name": r["name"], "level": r["level"],
              "parent_code": r["parent_code"], "path": list(r["path"]),
              "valid_from": r["valid_from"], "valid_until": r["valid_until"],
              "successor_code": r["successor_code"]}
             for r in await store.all_regions(conn)]
    if not tree:
        return items, len(items)
    by_code = {r["code"]: {**r, "children": []} for r in items}
    roots = []
    for r in by_code.values():
        parent = by_code.get(r["parent_code"] or "")
        (parent["children"] if parent else roots).append(r)
    return roots, len(items)


async def region_detail(conn: asyncpg.Connection, code: str) -> dict:
    region = await store.get_region(conn, code)
    if region is None:
        raise NotFound(f"Wilayah '{code}' tidak ada.", code="region_not_found")
    changes = await store.changes_of(conn, [code])
    before = sorted({c for ch in changes if code in ch["to_codes"] and code not in
                     ch["from_codes"] for c in ch["from_codes"]})
    after = sorted({c for ch in changes if code in ch["from_codes"] and code not in
                    ch["to_codes"] for c in ch["to_codes"]}
                   | ({region["successor_code"]} if region["successor_code"] else set()))
    names = await store.regions_named(conn, list(region["path"]) + before + after
                                      + [c for ch in changes for c in ch["from_codes"]
                                         + ch["to_codes"]])
    aliases = await store.list_aliases(conn, region_code=code)
    return {**region,
            "path": [{"code": c, "name": names.get(c, {}).get("name")} for c in region["path"]],
            "children": await store.region_children(conn, code),
            "aliases": [{k: a[k] for k in ("id", "kind", "alias", "source", "status", "note")}
                        for a in aliases],
            "predecessors": [_lineage_ref(c, names) for c in before],
            "successors": [_lineage_ref(c, names) for c in after],
            "changes": [_change_public(ch, names) for ch in changes]}


def _lineage_ref(code: str, names: dict[str, dict]) -> dict:
    region = names.get(code, {})
    return {"code": code, "name": region.get("name"), "level": region.get("level"),
            "valid_from": region.get("valid_from"), "valid_until": region.get("valid_until")}


def _change_public(change: dict, names: dict[str, dict]) -> dict:
    labels = {c: r.get("name") for c, r in names.items()}
    return {**{k: change[k] for k in ("id", "kind", "effective", "from_codes", "to_codes",
                                      "decree_number", "decree_date", "note", "source",
                                      "sample")},
            "description": region_changes.describe(change, labels)}


async def lineage_component(conn: asyncpg.Connection, code: str) -> list[str]:
    """``code`` and every region joined to it by a change (split, merge, code change, move),
    both ways: one territory over time, whose regions valid in a period cover it then."""
    index = await region_index(conn)
    if code not in index.regions:
        raise NotFound(f"Wilayah '{code}' tidak ada.", code="region_not_found")
    before: dict[str, set[str]] = {}
    for old in index.regions:
        for new in index.next_codes(old):
            before.setdefault(new, set()).add(old)
    seen, frontier = set(), [code]
    while frontier:
        at = frontier.pop()
        if at not in seen:
            seen.add(at)
            frontier += [*index.next_codes(at), *before.get(at, ())]
    return sorted(seen)


async def list_changes(conn: asyncpg.Connection, code: str | None = None) -> list[dict]:
    changes = await store.changes_of(conn, [code] if code else None)
    names = await store.regions_named(conn, sorted({c for ch in changes
                                                    for c in ch["from_codes"] + ch["to_codes"]}))
    return [_change_public(ch, names) for ch in changes]


async def import_regions(conn: asyncpg.Connection, principal: Principal,
                         rows: list[dict], *, sample: bool = False,
                         preview: bool = False) -> dict:
    """New codes, renames, retirements (with successor) and dated changes (a split, a merge,
    a code change, a move, a rename, a creation), all or nothing.

    A rename keeps the old name as an active ``former_name`` alias (until the rename's date
    when it has one), so submissions written with it still resolve. Each change is kept with
    its date and decree and audited; ``preview`` checks everything and lists what each change
    touches (records on either side of its date, datasets, publishers' scopes) without
    writing.
    """
    known = {r.code: r for r in await store.load_regions(conn)}
    paths = {code: list(r.path) for code, r in known.items()}
    errors, upserts, renames = _placements(rows, known, paths)
    retirements = _retirements(rows, known, paths, errors)
    changes = region_changes.group(rows)
    for change in changes:
        errors += region_changes.check(change, rows, known)
        change.update(source="impor wilayah", sample=sample)
        retirements += region_changes.retirements(change)
    if errors:
        raise Unprocessable("Impor wilayah ditolak; tidak ada yang diubah.",
                            code="region_import_invalid", details=errors)
    ended = {c["code"]: c["valid_from"] for c in rows if c.get("change") == "rename"}
    result = {"created": sum(1 for u in upserts if u["code"] not in known),
              "updated": sum(1 for u in upserts if u["code"] in known),
              "renamed": len(renames), "retired": len(retirements),
              "regions": sorted({u["code"] for u in upserts} | {r[0] for r in retirements}),
              "preview": preview,
              "changes": await _previews(conn, changes, known, rows)}
    if preview:
        return result
    await store.upsert_regions(conn, upserts)
    await store.add_aliases(conn, [{**a, "valid_until": ended.get(a["region_code"])}
                                   for a in renames])
    for code, successor, valid_until in retirements:
        await store.retire_region(conn, code, successor, valid_until)
    for change, shown in zip(changes, result["changes"]):
        kept = await store.insert_change(conn, change, principal.publisher_id)
        await audit.record(conn, principal, "region.change", str(kept["id"]),
                           {"description": shown["description"], "affects": shown["affects"]})
    await publish_regions(conn, result["regions"])
    await audit.record(conn, principal, "region.import", None,
                       {"codes": [r["code"] for r in rows][:200], "rows": len(rows)})
    return result


async def _previews(conn: asyncpg.Connection, changes: list[dict], known: dict,
                    rows: list[dict]) -> list[dict]:
    """Each change described, with what it touches: the records under its old codes on
    either side of its date, their datasets, the publishers scoped to the old codes."""
    names = {code: r.name for code, r in known.items()} | {r["code"]: r["name"] for r in rows}
    out = []
    for change in changes:
        ended = [c for c in change["from_codes"] if c not in change["to_codes"]]
        around = await store.records_around(conn, ended, change["effective"]) \
            if ended and change["effective"] else {}
        out.append({
            "kind": change["kind"], "effective": change["effective"],
            "from_codes": change["from_codes"], "to_codes": sorted(set(change["to_codes"])),
            "description": region_changes.describe(change, names),
            "affects": {"records_before": sum(a["before"] for a in around.values()),
                        "records_after": sum(a["after"] for a in around.values()),
                        "datasets": sorted({d for a in around.values() for d in a["datasets"]}),
                        "keys": [{"publisher_id": p["id"], "name": p["name"],
                                  "region_scope": p["region_scope"]}
                                 for p in await store.keys_scoped_to(conn, ended)]}})
    return out


def _placements(rows: list[dict], known: dict, paths: dict[str, list[str]]
                ) -> tuple[list[dict], list[dict], list[dict]]:
    """Each row placed under its parent (``paths`` grows as rows are placed): the errors,
    the region rows to upsert, and a ``former_name`` alias for each rename."""
    errors, upserts, renames = [], [], []
    for line, row in enumerate(rows, start=1):
        code, parent = row["code"], row.get("parent_code")
        if row["level"] == "kabupaten":
            path = [code]
        elif parent is None or parent not in paths:
            errors.append({"line": line, "field": "parent_code", "code": "parent_unknown",
                           "message": f"Induk '{parent}' untuk {code} tidak ada."})
            continue
        elif not code.startswith(parent + "."):
            errors.append({"line": line, "field": "code", "code": "code_not_under_parent",
                           "message": f"Kode {code} tidak berada di bawah kode induk {parent}."})
            continue
        else:
            path = paths[parent] + [code]
        paths[code] = path
        upserts.append({"code": code, "name": row["name"].strip(), "level": row["level"],
                        "parent_code": parent if row["level"] != "kabupaten" else None,
                        "path": path, "valid_from": row.get("valid_from")})
        old = known.get(code)
        if old and normalize_name(old.name) != normalize_name(row["name"]):
            renames.append({"region_code": code, "kind": "former_name", "alias": old.name,
                            "alias_norm": normalize_name(old.name), "source": "impor wilayah",
                            "status": "active", "note": row.get("note") or "nama lama"})
    return errors, upserts, renames


def _retirements(rows: list[dict], known: dict, paths: dict[str, list[str]],
                 errors: list[dict]) -> list[tuple]:
    """(code, successor, valid_until) per retired row; refusals are added to ``errors``,
    a successor chain that loops among them too."""
    retirements = []
    for line, row in enumerate(rows, start=1):
        successor = row.get("successor_code")
        if not successor and not row.get("valid_until"):
            continue
        if successor and successor not in paths:
            errors.append({"line": line, "field": "successor_code", "code": "successor_unknown",
                           "message": f"Kode pengganti '{successor}' tidak ada."})
        elif successor == row["code"]:
            errors.append({"line": line, "field": "successor_code", "code": "successor_self",
                           "message": "Kode pengganti tidak boleh sama dengan kodenya sendiri."})
        else:
            retirements.append((row["code"], successor,
                                row.get("valid_until") or clock.today_wita()))
    chains = {code: successor for code, successor, _ in retirements if successor}
    for code in chains:
        seen, at = {code}, chains.get(code)
        while at is not None:
            if at in seen:
                errors.append({"line": None, "field": "successor_code", "code": "successor_cycle",
                               "message": f"Rantai kode pengganti dari {code} berputar."})
                break
            seen.add(at)
            at = chains.get(at) or (known[at].successor_code if at in known else None)
    return retirements


async def import_aliases(conn: asyncpg.Connection, principal: Principal, rows: list[dict],
                         source: str | None) -> dict:
    """Operators' aliases land as ``pending`` until a walidata approves them; an alias whose
    name contradicts the region it points to is stored as ``refused`` with the reason."""
    when = clock.now().strftime("%Y-%m-%d")
    label = source or f"impor operator {principal.publisher_id} {when}"
    result = await reference.import_aliases(conn, rows, source=label, status="pending")
    await audit.record(conn, principal, "alias.import", label, {"rows": len(rows)})
    return {"inserted": result["inserted"],
            "pending": sum(1 for a in result["items"] if a["status"] == "pending"),
            "refused": result["refused"], "items": result["items"]}


async def list_aliases(conn: asyncpg.Connection, status: str | None, limit: int,
                       cursor: str | None) -> tuple[list[dict], str | None]:
    after = decode_cursor(cursor, 1, [int])[0] if cursor else 0
    items = await store.aliases_by_status(conn, status, limit + 1, after)
    return page(items, limit, lambda a: (a["id"],))


async def review_alias(conn: asyncpg.Connection, principal: Principal, alias_id: int,
                       verdict: str, note: str | None) -> dict:
    alias = await store.get_alias(conn, alias_id, lock=True)
    if alias is None:
        raise NotFound(f"Alias {alias_id} tidak ada.", code="alias_not_found")
    if verdict == "active":
        if alias["status"] != "pending":
            raise Conflict(f"Alias {alias_id} berstatus {alias['status']}; hanya alias "
                           "'pending' yang dapat disetujui.", code="alias_not_pending")
        clash = [a for a in await store.list_aliases(conn, status="active")
                 if a["kind"] == alias["kind"] and a["region_code"] != alias["region_code"]
                 and _norm(a) == _norm(alias)]
        if clash:
            raise Conflict(f"Alias '{alias['alias']}' sudah dipakai untuk wilayah "
                           f"{clash[0]['region_code']}; tolak salah satunya dulu.",
                           code="alias_clash")
    elif alias["status"] == "refused":
        raise Conflict(f"Alias {alias_id} sudah ditolak.", code="alias_already_refused")
    reviewed = await store.review_alias(conn, alias_id, verdict, principal.publisher_id, note)
    if "active" in (alias["status"], verdict):
        await publish_regions(conn, [alias["region_code"]])
    await audit.record(conn, principal, "alias.approve" if verdict == "active"
                       else "alias.refuse", str(alias_id), {"note": note})
    return reviewed


def _norm(alias: dict) -> str:
    if alias["kind"] in ("bps_code", "former_code"):
        return normalize_code(alias["alias"])
    return normalize_name(alias["alias"])


async def get_region(conn: asyncpg.Connection, code: str) -> dict | None:
    return await store.get_region(conn, code)


async def all_regions(conn: asyncpg.Connection) -> list[dict]:
    return await store.all_regions(conn)


async def load_regions(conn: asyncpg.Connection) -> list:
    return await store.load_regions(conn)


async def regions_named(conn: asyncpg.Connection, codes: list[str]) -> dict[str, dict]:
    return await store.regions_named(conn, codes)


async def root_region(conn: asyncpg.Connection) -> str | None:
    return await store.root_region(conn)


async def load_reference(conn: asyncpg.Connection) -> dict:
    """The shipped reference data, insert-only: Kemendagri codes, the statistics agency's
    spellings and the known renames as aliases. New regions go out once their aliases are in
    (every region event carries them)."""
    regions = await reference.load_regions(conn)
    bps = await reference.load_bps_crosswalk(conn)
    renames = await reference.load_known_renames(conn)
    changes = await reference.load_known_changes(conn)
    if regions["added"]:
        await publish_regions(conn, regions["added"])
    return {"regions": len(regions["added"]), "regions_differing": regions["differing"],
            "aliases": bps["inserted"] + renames["inserted"], "aliases_refused": bps["refused"],
            "region_changes": changes}
