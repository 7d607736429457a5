"""Publishers and their API keys: who may write what, and resolving a key to a principal."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone

import asyncpg

from services.registry.access import store
from services.registry.audit import service as audit
from services.registry.datasets import service as datasets_service
from services.registry.regions import service as regions_service
from shared import clock
from shared.auth import Principal, hash_key
from shared.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable


def new_raw_key() -> str:
    return "sd_" + secrets.token_urlsafe(32)


async def create_key(conn: asyncpg.Connection, *, publisher_id: str, role: str, label: str = "",
                     expires_at: datetime | None = None, raw: str | None = None
                     ) -> tuple[str, dict]:
    """Returns the raw key (shown once, never stored) and the stored key's metadata."""
    if await store.get_publisher(conn, publisher_id) is None:
        raise NotFound(f"Produsen data '{publisher_id}' tidak ada.", code="publisher_not_found")
    raw = raw or new_raw_key()
    meta = await store.insert_key(conn, id="key_" + secrets.token_hex(6),
                                  publisher_id=publisher_id, role=role, key_hash=hash_key(raw),
                                  label=label, expires_at=expires_at)
    return raw, meta


async def resolve_key(conn: asyncpg.Connection, raw: str) -> Principal:
    row = await store.find_key(conn, hash_key(raw))
    if row is None:
        raise Unauthorized("Kunci API tidak dikenal.", code="invalid_api_key")
    if row["revoked_at"] is not None:
        raise Unauthorized("Kunci API ini sudah dicabut.", code="revoked_api_key")
    if row["expires_at"] is not None and row["expires_at"] <= clock.now():
        raise Unauthorized("Kunci API ini sudah kedaluwarsa.", code="expired_api_key")
    datasets = list(row["datasets"]) if row["role"] == "publisher" else ["*"]
    return Principal(key_id=row["key_id"], publisher_id=row["publisher_id"],
                     publisher_name=row["publisher_name"], role=row["role"],
                     region_scope=row["region_scope"], datasets=datasets)




async def list_publishers(conn: asyncpg.Connection) -> list[dict]:
    return [{k: p[k] for k in ("id", "name", "kind", "region_scope", "datasets")}
            for p in await store.list_publishers(conn)]


async def list_keys(conn: asyncpg.Connection, publisher_id: str | None) -> list[dict]:
    return await store.keys_of(conn, publisher_id)


SCOPE_LEVELS = {"desa": {"desa", "kelurahan"}, "kecamatan": {"kecamatan"},
                "opd": {"kabupaten", "kecamatan", "desa", "kelurahan"}}


async def _check_publisher(conn: asyncpg.Connection, kind: str, region_scope: str,
                           datasets: list[str]) -> None:
    region = await regions_service.get_region(conn, region_scope)
    if region is None:
        raise Unprocessable(f"Wilayah '{region_scope}' tidak ada.", code="region_not_found")
    if region["level"] not in SCOPE_LEVELS[kind]:
        raise Unprocessable(f"Produsen jenis {kind} tidak dapat berwenang atas "
                            f"{region['level']} {region['name']}.", code="scope_level_mismatch")
    known = await datasets_service.existing_dataset_slugs(conn, datasets)
    missing = sorted(set(datasets) - known)
    if missing:
        raise Unprocessable(f"Dataset tidak ada: {', '.join(missing)}.",
                            code="dataset_not_found")


async def create_publisher(conn: asyncpg.Connection, principal: Principal, data: dict) -> dict:
    await _check_publisher(conn, data["kind"], data["region_scope"], data["datasets"])
    created = await store.insert_publisher(conn, data)
    if created is None:
        raise Conflict(f"Produsen data '{data['id']}' sudah ada.", code="publisher_exists")
    await audit.record(conn, principal, "publisher.create", data["id"], data)
    return created


async def update_publisher(conn: asyncpg.Connection, principal: Principal, publisher_id: str,
                           changes: dict) -> dict:
    current = await store.get_publisher(conn, publisher_id)
    if current is None:
        raise NotFound(f"Produsen data '{publisher_id}' tidak ada.", code="publisher_not_found")
    if current["kind"] != "walidata":
        await _check_publisher(conn, current["kind"],
                               changes.get("region_scope", current["region_scope"]),
                               changes.get("datasets", list(current["datasets"])))
    await audit.record(conn, principal, "publisher.update", publisher_id, changes)
    return await store.update_publisher(conn, publisher_id, changes)


async def issue_key(conn: asyncpg.Connection, principal: Principal, data: dict) -> dict:
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
    raw, meta = await create_key(conn, publisher_id=data["publisher_id"], role=data["role"],
                                 label=data.get("label", ""), expires_at=expires_at)
    await audit.record(conn, principal, "key.create", meta["id"], {  # never the raw key
        "publisher_id": data["publisher_id"], "role": data["role"], "label": data.get("label")})
    return {**meta, "key": raw}


async def revoke_key(conn: asyncpg.Connection, principal: Principal, key_id: str) -> dict:
    key = await store.get_key(conn, key_id)
    if key is None:
        raise NotFound(f"Kunci '{key_id}' tidak ada.", code="key_not_found")
    if key["role"] == "admin" and principal.role != "admin":
        raise Forbidden("Hanya admin yang boleh mencabut kunci admin.", code="admin_only")
    revoked = await store.revoke_key(conn, key_id)
    await audit.record(conn, principal, "key.revoke", key_id,
                       {"publisher_id": revoked["publisher_id"]})
    return revoked


async def get_publisher(conn: asyncpg.Connection, publisher_id: str) -> dict | None:
    return await store.get_publisher(conn, publisher_id)


async def add_publisher(conn: asyncpg.Connection, publisher: dict) -> dict | None:
    """Insert a publisher not yet known (None when it exists: nothing is changed)."""
    return await store.insert_publisher(conn, publisher)


async def key_exists(conn: asyncpg.Connection, key_hash: str) -> bool:
    return await store.key_exists(conn, key_hash)
