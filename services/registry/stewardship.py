"""Walidata and admin use cases: regions and aliases, publishers and keys, conflicts.

Every function runs inside the caller's transaction; events go through the outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import asyncpg

from services.registry import reference, service, store
from services.registry.validation import normalize_code, normalize_name
from shared.pagination import decode_cursor, encode_cursor
from shared import clock
from shared.auth import Principal
from shared.errors import BadRequest, Conflict, Forbidden, NotFound, Unprocessable

SCOPE_LEVELS = {"desa": {"desa", "kelurahan"}, "kecamatan": {"kecamatan"},
                "opd": {"kabupaten", "kecamatan", "desa", "kelurahan"}}

# --- regions ------------------------------------------------------------------------------


async def import_regions(conn: asyncpg.Connection, rows: list[dict]) -> dict:
    """New codes, renames and retirements (with successor), all or nothing.

    A rename keeps the old name as an active ``former_name`` alias, so submissions written
    with it still resolve; a retired code resolves to its successor.
    """
    known = {r.code: r for r in await store.load_regions(conn)}
    paths = {code: list(r.path) for code, r in known.items()}
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
            retirements.append((row["code"], successor, row.get("valid_until") or clock.today_wita()))
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
    if errors:
        raise Unprocessable("Impor wilayah ditolak; tidak ada yang diubah.",
                            code="region_import_invalid", details=errors)
    await store.upsert_regions(conn, upserts)
    await store.add_aliases(conn, renames)
    for code, successor, valid_until in retirements:
        await store.retire_region(conn, code, successor, valid_until)
    changed = sorted({u["code"] for u in upserts})
    await service.publish_regions(conn, changed)
    return {"created": sum(1 for u in upserts if u["code"] not in known),
            "updated": sum(1 for u in upserts if u["code"] in known),
            "renamed": len(renames), "retired": len(retirements), "regions": changed}


async def import_aliases(conn: asyncpg.Connection, principal: Principal, rows: list[dict],
                         source: str | None) -> dict:
    """Operators' aliases land as ``pending`` until a walidata approves them; an alias whose
    name contradicts the region it points to is stored as ``refused`` with the reason."""
    when = clock.now().strftime("%Y-%m-%d")
    label = source or f"impor operator {principal.publisher_id} {when}"
    result = await reference.import_aliases(conn, rows, source=label, status="pending")
    return {"inserted": result["inserted"],
            "pending": sum(1 for a in result["items"] if a["status"] == "pending"),
            "refused": result["refused"], "items": result["items"]}


async def list_aliases(conn: asyncpg.Connection, status: str | None, limit: int,
                       after: int) -> tuple[list[dict], int | None]:
    items = await store.aliases_by_status(conn, status, limit + 1, after)
    more = len(items) > limit
    items = items[:limit]
    return items, (items[-1]["id"] if more else None)


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
        await service.publish_regions(conn, [alias["region_code"]], bump=True)
    return reviewed


def _norm(alias: dict) -> str:
    if alias["kind"] in ("bps_code", "former_code"):
        return normalize_code(alias["alias"])
    return normalize_name(alias["alias"])


# --- publishers and keys ------------------------------------------------------------------


async def _check_publisher(conn: asyncpg.Connection, kind: str, region_scope: str,
                           datasets: list[str]) -> None:
    region = await store.get_region(conn, region_scope)
    if region is None:
        raise Unprocessable(f"Wilayah '{region_scope}' tidak ada.", code="region_not_found")
    if region["level"] not in SCOPE_LEVELS[kind]:
        raise Unprocessable(f"Produsen jenis {kind} tidak dapat berwenang atas "
                            f"{region['level']} {region['name']}.", code="scope_level_mismatch")
    missing = sorted(set(datasets) - await store.existing_dataset_slugs(conn, datasets))
    if missing:
        raise Unprocessable(f"Dataset tidak ada: {', '.join(missing)}.",
                            code="dataset_not_found")


async def create_publisher(conn: asyncpg.Connection, data: dict) -> dict:
    await _check_publisher(conn, data["kind"], data["region_scope"], data["datasets"])
    created = await store.insert_publisher(conn, data)
    if created is None:
        raise Conflict(f"Produsen data '{data['id']}' sudah ada.", code="publisher_exists")
    return created


async def update_publisher(conn: asyncpg.Connection, publisher_id: str, changes: dict) -> dict:
    current = await store.get_publisher(conn, publisher_id)
    if current is None:
        raise NotFound(f"Produsen data '{publisher_id}' tidak ada.", code="publisher_not_found")
    if current["kind"] != "walidata":
        await _check_publisher(conn, current["kind"],
                               changes.get("region_scope", current["region_scope"]),
                               changes.get("datasets", list(current["datasets"])))
    return await store.update_publisher(conn, publisher_id, changes)


async def create_key(conn: asyncpg.Connection, principal: Principal, data: dict) -> dict:
    if data["role"] == "admin" and principal.role != "admin":
        raise Forbidden("Hanya admin yang boleh membuat kunci admin.", code="admin_only")
    publisher = await store.get_publisher(conn, data["publisher_id"])
    if publisher is None:
        raise NotFound(f"Publisher '{data['publisher_id']}' tidak ada.",
                       code="publisher_not_found")
    if data["role"] != "publisher" and publisher["kind"] != "walidata":
        # only the steward's own publisher holds walidata or admin keys
        raise Unprocessable(
            f"Peran '{data['role']}' hanya untuk publisher walidata; publisher ini berjenis "
            f"'{publisher['kind']}'.", code="role_does_not_fit_publisher",
            details=[{"field": "role", "publisher_kind": publisher["kind"]}])
    expires_at = data.get("expires_at")
    if expires_at is not None:
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=timezone.utc)
        if expires_at <= clock.now():
            raise Unprocessable("Tanggal kedaluwarsa harus di masa depan.",
                                code="expiry_in_past")
    raw, meta = await service.create_key(conn, publisher_id=data["publisher_id"],
                                         role=data["role"], label=data.get("label", ""),
                                         expires_at=expires_at)
    return {**meta, "key": raw}


async def revoke_key(conn: asyncpg.Connection, principal: Principal, key_id: str) -> dict:
    key = await store.get_key(conn, key_id)
    if key is None:
        raise NotFound(f"Kunci '{key_id}' tidak ada.", code="key_not_found")
    if key["role"] == "admin" and principal.role != "admin":
        raise Forbidden("Hanya admin yang boleh mencabut kunci admin.", code="admin_only")
    return await store.revoke_key(conn, key_id)


# --- conflicts ----------------------------------------------------------------------------


def conflict_public(row: dict) -> dict:
    return {
        "id": row["id"], "dataset": row["dataset"], "record_id": row["record_id"],
        "region_code": row["region_code"], "region_name": row["region_name"],
        "period": row["period"], "dimensions": row["dims"], "status": row["status"],
        "base_version": row["base_version"], "record_version": row["record_version"],
        "stale": row["status"] == "open" and row["record_version"] != row["base_version"],
        "current": {"values": row["current_vals"], "publisher_id": row["current_publisher"],
                    "publisher_name": row["current_publisher_name"]},
        "proposed": {"values": row["proposed_vals"], "publisher_id": row["proposed_publisher"],
                     "publisher_name": row["proposed_publisher_name"],
                     "submission_id": row["submission_id"]},
        "created_at": row["created_at"], "resolved_at": row["resolved_at"],
        "resolved_by": row["resolved_by"], "resolution_note": row["resolution_note"],
    }


async def list_conflicts(conn: asyncpg.Connection, principal: Principal, *,
                         dataset: str | None, status: str | None, cursor: str | None,
                         limit: int) -> tuple[list[dict], str | None]:
    """Stewards see every conflict; a publisher sees those where it is one of the sides."""
    dataset_id = (await service.get_dataset(conn, dataset))["id"] if dataset else None
    after = None
    if cursor:
        created_at, conflict_id = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(created_at), uuid.UUID(conflict_id))
        except (TypeError, ValueError) as exc:
            raise BadRequest("Kursor halaman tidak valid.", code="invalid_cursor") from exc
    rows = await store.list_conflicts(
        conn, dataset_id=dataset_id, status=status, after=after, limit=limit + 1,
        publisher_id=None if principal.is_steward else principal.publisher_id)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["created_at"].isoformat(),
                                            str(rows[-1]["id"]))
    return [conflict_public(r) for r in rows], next_cursor


async def get_conflict(conn: asyncpg.Connection, principal: Principal,
                       conflict_id: uuid.UUID) -> dict:
    row = await store.get_conflict(conn, conflict_id)
    if row is None or not (principal.is_steward or principal.publisher_id in (
            row["proposed_publisher"], row["current_publisher"])):
        raise NotFound("Perselisihan data tidak ditemukan.", code="conflict_not_found")
    return conflict_public(row)


async def _open_conflict(conn: asyncpg.Connection, conflict_id: uuid.UUID) -> dict:
    row = await store.get_conflict(conn, conflict_id, lock=True)
    if row is None:
        raise NotFound("Perselisihan data tidak ditemukan.", code="conflict_not_found")
    if row["status"] != "open":
        raise Conflict(f"Perselisihan ini sudah berstatus {row['status']}.",
                       code="conflict_not_open")
    return row


async def accept_conflict(conn: asyncpg.Connection, principal: Principal,
                          conflict_id: uuid.UUID, note: str | None) -> dict:
    """The proposed values become the master's next version (record_versions.conflict_id),
    refused when the record changed since the conflict was opened."""
    row = await _open_conflict(conn, conflict_id)
    if row["record_version"] != row["base_version"]:
        raise Conflict(
            f"Nilai induk sudah berubah sejak perselisihan dibuka (versi {row['base_version']} "
            f"menjadi versi {row['record_version']}, nilai kini {row['record_vals']}). Tinjau "
            "nilai terbaru: tolak perselisihan ini, atau minta produsen mengirim ulang.",
            code="conflict_stale",
            details=[{"base_version": row["base_version"],
                      "record_version": row["record_version"],
                      "current_values": row["record_vals"]}])
    changed = await store.apply_conflict(conn, row)
    await store.resolve_conflict(conn, conflict_id, "accepted", principal.publisher_id, note)
    await store.supersede_conflicts(conn, [row["record_id"]])
    await service.publish_records(conn, row["dataset"], [changed])
    return conflict_public(await store.get_conflict(conn, conflict_id))


async def reject_conflict(conn: asyncpg.Connection, principal: Principal,
                          conflict_id: uuid.UUID, note: str) -> dict:
    await _open_conflict(conn, conflict_id)
    await store.resolve_conflict(conn, conflict_id, "rejected", principal.publisher_id, note)
    return conflict_public(await store.get_conflict(conn, conflict_id))
