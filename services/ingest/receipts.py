"""Signed receipts: proof for a village of what it sent and what became of it.

Ingest signs, because it alone knows a submission whole: the rows as received and
normalised, who sent them with which key, when, and the final status once every chunk's
summary from the registry (or its dead letter) is in. The registry sees chunks, never the
submission, and the gateway sees neither the rows' fate nor the end.

A receipt is issued once the submission is final (completed, partial or failed), the first
time it is asked for, stored, and served byte for byte afterwards; should the submission move
on (a dead-lettered chunk replayed and applied turns ``partial`` into ``completed``), the next
request gets a new receipt for the new state (the old one stays a valid proof of the old). It is canonical JSON
(RFC 8785) signed with the platform's Ed25519 key (``shared.receipts``):

    {"type": "satudata.receipt.v1", "submission_id", "publisher_id", "api_key_id",
     "dataset", "source", "filename", "received_at", "final_at", "status",
     "rows": {"count", "sha256"},   # sha256 of the RFC 8785 array of the normalised rows
     "counts": {created, updated, unchanged, conflict, rejected, held, failed},
     "outcomes": {outcome: [[first, last], ...]},   # row index ranges, from 0
     "issued_at", "key_id", "signature": {"alg": "Ed25519", "key_id", "value"}}

``held`` (a row kept back for verification) comes from the registry like the others;
``failed`` marks rows of a chunk that ended in the dead-letter stream.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import asyncpg

from services.ingest import receipts_store as store
from services.ingest.settings import IngestSettings
from shared.auth import Principal
from shared.canonical import ArrayDigest, canonical
from shared.errors import AppError, Conflict, Forbidden, NotFound
from shared.receipts import Signer, load_private

log = logging.getLogger("satudata.ingest.receipts")

OUTCOMES = ("created", "updated", "unchanged", "conflict", "rejected", "held", "failed")
FINAL = ("completed", "partial", "failed")


class ReceiptKeyMissing(AppError):
    status_code, code = 503, "receipt_key_missing"


def load_signer(settings: IngestSettings) -> Signer | None:
    """The signing key from ``INGEST_RECEIPT_KEY`` (PEM) or ``INGEST_RECEIPT_KEY_FILE``, and
    retired public keys from ``INGEST_RECEIPT_RETIRED_KEYS_FILE``; None without a key (the
    receipt route then answers 503). The key is never logged."""
    pem = settings.receipt_key.encode() if settings.receipt_key else None
    if pem is None and settings.receipt_key_file and Path(settings.receipt_key_file).exists():
        pem = Path(settings.receipt_key_file).read_bytes()  # absent: an optional Secret
    if pem is None:
        log.warning("no receipt signing key configured: receipts answer 503")
        return None
    retired: list[dict] = []
    if settings.receipt_retired_keys_file and Path(settings.receipt_retired_keys_file).exists():
        retired = json.loads(Path(settings.receipt_retired_keys_file).read_text())["keys"]
    return Signer(load_private(pem), retired)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


def _ranges(indexes: list[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for i in sorted(indexes):
        if out and i == out[-1][1] + 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def row_outcomes(chunks: list[dict]) -> dict[str, list[int]]:
    """Row indexes by outcome, chunk by chunk. A chunk summarised by a registry that did not
    yet report rows one by one is given by its counts only (its rows are left out here)."""
    by: dict[str, list[int]] = {}
    for chunk in chunks:
        if chunk["error"] is not None:
            by.setdefault("failed", []).extend(
                range(chunk["row_offset"], chunk["row_offset"] + chunk["rows"]))
        elif chunk["outcomes"]:
            for name, indexes in json.loads(chunk["outcomes"]).items():
                by.setdefault(name, []).extend(indexes)
    return by


def _counts(chunks: list[dict], by: dict[str, list[int]]) -> dict[str, int]:
    counts = {name: len(by.get(name, [])) for name in OUTCOMES}
    for chunk in chunks:  # chunks without per-row outcomes still count
        if chunk["error"] is None and not chunk["outcomes"] and chunk["processed_at"]:
            for name, column in (("created", "created"), ("updated", "updated"),
                                 ("unchanged", "unchanged"), ("conflict", "conflicts"),
                                 ("rejected", "rejected")):
                counts[name] += chunk[column]
    return counts


async def build(conn: asyncpg.Connection, sub: dict) -> dict[str, Any]:
    """The receipt's content (unsigned), inside the caller's transaction."""
    chunks = await store.chunks(conn, sub["id"])
    digest = ArrayDigest()
    async for row in store.normalised_rows(conn, sub["id"]):
        digest.add({k: v for k, v in row.items() if not k.startswith("_")})
    by = row_outcomes(chunks)
    return {
        "type": "satudata.receipt.v1", "submission_id": str(sub["id"]),
        "publisher_id": sub["publisher_id"], "api_key_id": sub["key_id"],
        "dataset": sub["dataset"], "source": sub["source"], "filename": sub["filename"],
        "received_at": _iso(sub["created_at"]), "final_at": _iso(sub["updated_at"]),
        "status": sub["status"], "rows": {"count": digest.count, "sha256": digest.hexdigest()},
        "counts": _counts(chunks, by),
        "outcomes": {name: _ranges(by[name]) for name in OUTCOMES if by.get(name)},
        "issued_at": _iso(datetime.now(timezone.utc)),
    }


async def receipt(pool: asyncpg.Pool, signer: Signer | None, principal: Principal,
                  submission_id: uuid.UUID) -> bytes:
    """The signed receipt of a final submission, for its publisher (or the walidata)."""
    async with pool.acquire() as conn, conn.transaction():
        sub = await store.submission(conn, submission_id)
        if sub is None:
            raise NotFound("Kiriman tidak ditemukan.", code="submission_not_found")
        if sub["publisher_id"] != principal.publisher_id and not principal.is_steward:
            raise Forbidden("Kiriman ini milik penerbit lain.", code="submission_not_yours")
        if sub["status"] not in FINAL:
            raise Conflict("Kiriman masih diproses; tanda terima tersedia setelah semua baris "
                           "selesai diproses. Coba lagi sebentar lagi.",
                           code="receipt_not_ready")
        body = await store.stored(conn, submission_id, sub["updated_at"])
        if body is not None:
            return body
        if signer is None:
            raise ReceiptKeyMissing("Kunci tanda tangan platform belum dipasang; hubungi "
                                    "walidata.")
        signed = signer.sign(await build(conn, sub))
        return await store.save(conn, submission_id, signer.key_id, sub["updated_at"], signed,
                                signer.keys_document()["keys"][0])


async def keys_document(pool: asyncpg.Pool, signer: Signer | None) -> bytes:
    """The current key, then every earlier one: the retired keys of ingest's files and the
    keys kept with the receipts they signed (a backup restored into a new data folder brings
    its old key this way). Without the database, the files' keys alone."""
    document = signer.keys_document() if signer else {"keys": []}
    try:
        async with pool.acquire() as conn:
            kept = await store.kept_keys(conn)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        kept = []
    listed = {k["kid"] for k in document["keys"]}
    document["keys"] += [dict(k, status="retired") for k in kept if k["kid"] not in listed]
    return canonical(document)


async def remember_file_keys(pool: asyncpg.Pool, signer: Signer | None) -> None:
    """At start: keep the public keys of ingest's files that signed receipts before keys were
    kept with them (adds rows, changes none)."""
    if signer is None:
        return
    try:
        async with pool.acquire() as conn:
            await store.remember_signing_keys(conn, signer.keys_document()["keys"])
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        log.warning("receipt keys not registered yet (%s); the next start tries again", exc)
