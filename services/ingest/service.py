"""Ingest use cases: accept a submission, report its status, record the registry's summaries.

Parsing runs in worker threads one batch at a time, so a 100,000-row file neither blocks the
event loop nor sits in memory whole. The parsed batches wait in a spool file while the
registry resolves the region cells (no call to another service inside a transaction); then
one transaction COPYs them and writes one outbox event per chunk before it commits.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg

from services.ingest import store
from services.ingest.chunking import (ROW_KINDS, Chunker, KeyTracker, check_row_count,
                                       next_batch, tracked)
from services.ingest.limits import Limits, capped
from services.ingest.parsing import CsvRows, FieldSet, JsonRows, RowSource, XlsxRows
from services.ingest.registry_client import DatasetNotFound, RegistryClient
from services.ingest.settings import IngestSettings
from shared.auth import Principal
from shared.contracts import (
    DeadLetterV1, Envelope, ImportCounts, SubmissionChunkProcessedV1, SubmissionChunkV1,
)
from shared.errors import (Conflict, Forbidden, NotFound, TooManyRequests,
                           Unprocessable)
from shared.logging import request_id_var
from shared.pagination import decode_cursor, page


@dataclass
class Upload:
    """What the HTTP layer received: JSON rows already in memory, or a file on disk."""

    kind: str  # json | csv | xlsx | ckan
    rows: list[Any] | None = None
    path: Path | None = None
    filename: str | None = None
    locale: str = "id"  # how numbers written as text read: id 2.000,5 or en 2,000.5


@dataclass
class Accepted:
    body: dict[str, Any]
    replayed: bool


def status_url(submission_id) -> str:
    return f"/v1/submissions/{submission_id}"


async def dataset_fields(registry: RegistryClient, principal: Principal, slug: str
                         ) -> tuple[FieldSet, list[dict]]:
    """The dataset's fields, refusing unknown datasets and datasets outside the key's rights."""
    warnings: list[dict] = []
    try:
        dataset = await registry.dataset(slug)
    except DatasetNotFound:
        allowed = [d for d in principal.datasets if d != "*"]
        if "*" in principal.datasets or principal.is_steward or not allowed:
            allowed = await registry.dataset_slugs()
        raise NotFound(
            f"Dataset '{slug}' tidak ada. Dataset yang boleh Anda isi: "
            f"{', '.join(allowed) or '(tidak ada)'}.", code="dataset_not_found",
            details=[{"field": "dataset", "allowed": allowed}]) from None
    if not principal.may_write(slug):
        raise Forbidden(
            f"Kunci API ini tidak boleh mengisi dataset '{slug}'. Dataset yang boleh: "
            f"{', '.join(principal.datasets) or '(tidak ada)'}.", code="dataset_not_allowed",
            details=[{"field": "dataset", "allowed": principal.datasets}])
    if dataset is None:
        warnings.append({"code": "registry_unavailable", "column": None,
                         "message": "Registry sedang tidak dapat dihubungi: kolom belum dicocokkan "
                                    "dengan definisi dataset; baris diperiksa saat diproses."})
    return FieldSet(dataset["schema"] if dataset else None), warnings


def row_source(upload: Upload, fields: FieldSet, settings: IngestSettings) -> RowSource:
    limits = Limits(max_columns=settings.max_columns, max_cell_bytes=settings.max_cell_bytes)
    if upload.kind in ROW_KINDS:
        return JsonRows(upload.rows or [], fields, kind=upload.kind, limits=limits)
    if upload.kind == "csv":
        return CsvRows(upload.path, fields, limits)
    return XlsxRows(upload.path, fields, settings.max_decompressed_bytes, limits,
                    max_rows=settings.max_rows, max_cells=settings.max_xlsx_cells)


def _chunker(dataset: str, settings: IngestSettings, locale: str) -> Chunker:
    return Chunker(dataset, chunk_rows=settings.chunk_rows, chunk_bytes=settings.chunk_bytes,
                   max_rows=settings.max_rows, locale=locale)


def _tracker(fields: FieldSet) -> KeyTracker:
    return KeyTracker(fields.dimensions if fields.known else None)


async def _resolve_keys(registry: RegistryClient, dataset: str, tracker: KeyTracker) -> None:
    """Let the registry say which differently written region cells are one place, so rows
    repeating a key are found however far apart (chunks) and however written."""
    if cells := tracker.region_cells():
        tracker.resolve_with(await registry.resolve_regions(dataset, cells))


async def _drain(source: RowSource, chunker: Chunker, settings: IngestSettings,
                 tracker: KeyTracker | None = None):
    """Yield encoded batches, parsing each in a worker thread."""
    rows = iter(source) if tracker is None else tracked(iter(source), tracker)
    while batch := await asyncio.to_thread(next_batch, rows, chunker, settings.parse_batch_rows):
        yield batch


async def submit(pool: asyncpg.Pool, registry: RegistryClient, settings: IngestSettings,
                 principal: Principal, dataset: str, upload: Upload, *,
                 idempotency_key: str | None) -> Accepted:
    await asyncio.to_thread(check_row_count, upload.kind, upload.rows, upload.path,
                            settings.max_rows, settings.max_columns)
    fields, warnings = await dataset_fields(registry, principal, dataset)
    source = row_source(upload, fields, settings)
    chunker = _chunker(dataset, settings, upload.locale)
    tracker = _tracker(fields)
    if not await _is_replay(pool, principal, idempotency_key):
        async with pool.acquire() as conn:  # a full queue refuses before anything is parsed
            await _check_backlog(conn, principal.publisher_id, settings)
    with tempfile.TemporaryFile(prefix="satudata-batches-") as spool:
        async for batch in _drain(source, chunker, settings, tracker):
            await asyncio.to_thread(pickle.dump, batch, spool, pickle.HIGHEST_PROTOCOL)
        if chunker.rows == 0:
            raise Unprocessable("Kiriman tidak berisi baris data.", code="no_rows")
        warnings += capped(source.warnings)
        await _resolve_keys(registry, dataset, tracker)  # outside any transaction
        duplicates = await asyncio.to_thread(tracker.duplicates_json)
        submission_id = uuid.uuid4()
        async with pool.acquire() as conn:
            async with conn.transaction():
                first_use = await store.insert_submission(
                    conn, id=submission_id, publisher_id=principal.publisher_id,
                    key_id=principal.key_id, dataset=dataset, source=upload.kind,
                    filename=upload.filename, idempotency_key=idempotency_key,
                    request_id=request_id_var.get())
                if first_use:
                    await _check_backlog(conn, principal.publisher_id, settings)
                    spool.seek(0)
                    while batch := await asyncio.to_thread(_next_spooled, spool):
                        await store.copy_rows(conn, submission_id, batch)
                    await store.mark_duplicates(conn, submission_id, duplicates)
                    await store.finish_submission(
                        conn, id=submission_id, publisher_id=principal.publisher_id,
                        dataset=dataset, rows=chunker.rows, chunks=chunker.chunks,
                        content_hash=chunker.digest, warnings=warnings,
                        request_id=request_id_var.get(), locale=upload.locale,
                        sheet=source.sheet)
            if first_use:
                return Accepted(_accepted(submission_id, dataset, chunker.rows, chunker.chunks,
                                          "received", warnings), replayed=False)
            return await _replay(conn, principal, dataset, idempotency_key, chunker)


def _next_spooled(spool) -> list:
    """The next parsed batch from the spool ([] at its end); written by this process."""
    try:
        return pickle.load(spool)  # noqa: S301 - our own file, never a client's bytes
    except EOFError:
        return []


async def _is_replay(pool: asyncpg.Pool, principal: Principal, key: str | None) -> bool:
    if key is None:
        return False
    async with pool.acquire() as conn:
        return await store.submission_by_key(conn, principal.publisher_id, key) is not None


async def _check_backlog(conn: asyncpg.Connection, publisher_id: str,
                         settings: IngestSettings) -> None:
    """429 while this publisher's own backlog is past ``max_pending_rows`` (others unaffected):
    the queue stays bounded and the publisher retries after Retry-After. A retry of an accepted
    submission (same Idempotency-Key) is never refused: it only reads the original."""
    pending = await store.pending_rows(conn, publisher_id)
    if pending > settings.max_pending_rows:
        raise TooManyRequests(
            f"Antrean kiriman Anda masih {pending} baris yang belum diproses (batas "
            f"{settings.max_pending_rows}). Kirim ulang setelah "
            f"{settings.backlog_retry_after} detik.", code="backlog_full",
            details=[{"pending_rows": pending, "max_pending_rows": settings.max_pending_rows,
                      "retry_after": settings.backlog_retry_after}],
            headers={"Retry-After": str(settings.backlog_retry_after)})


async def _replay(conn, principal: Principal, dataset: str, key: str,
                  chunker: Chunker) -> Accepted:
    """A retry with a used Idempotency-Key: the same rows (the same digest) get the original
    submission."""
    original = await store.submission_by_key(conn, principal.publisher_id, key)
    if original["dataset"] != dataset or original["content_hash"] != chunker.digest:
        raise Conflict(
            "Idempotency-Key ini sudah dipakai untuk kiriman lain dengan isi berbeda; "
            "gunakan kunci baru untuk kiriman baru.", code="idempotency_key_reused",
            details=[{"field": "Idempotency-Key", "submission_id": str(original["id"])}])
    row = await store.get_submission(conn, original["id"])
    return Accepted(_accepted(row["id"], row["dataset"], row["rows"], row["chunks"],
                              row["status"], row["warnings"]), replayed=True)


def _accepted(submission_id, dataset: str, rows: int, chunks: int, status: str,
              warnings: list[dict]) -> dict[str, Any]:
    return {"id": submission_id, "status": status, "status_url": status_url(submission_id),
            "dataset": dataset, "rows": rows, "chunks": chunks, "warnings": warnings}


async def dry_run(registry: RegistryClient, settings: IngestSettings, principal: Principal,
                  dataset: str, upload: Upload) -> dict[str, Any]:
    """Full validation by the registry; nothing is stored."""
    await asyncio.to_thread(check_row_count, upload.kind, upload.rows, upload.path,
                            settings.max_rows, settings.max_columns)
    fields, warnings = await dataset_fields(registry, principal, dataset)
    source = row_source(upload, fields, settings)
    chunker = _chunker(dataset, settings, upload.locale)
    tracker = _tracker(fields)
    rows: list[dict[str, Any]] = []

    def collect() -> None:
        for row in tracked(iter(source), tracker):
            chunker.add(row)  # enforces max_rows
            rows.append(row)

    await asyncio.to_thread(collect)
    if not rows:
        raise Unprocessable("Kiriman tidak berisi baris data.", code="no_rows")
    await _resolve_keys(registry, dataset, tracker)
    for index, lines in tracker.duplicates().items():
        rows[index]["_duplicate_of"] = lines
    summary = await registry.validate(dataset, rows, principal, locale=upload.locale,
                                      sheet=source.sheet)
    return {"dry_run": True, "dataset": dataset, "rows": len(rows),
            "counts": summary.get("counts", {}),
            "rejected_rows": summary.get("rejected_rows", []),
            "held_rows": summary.get("held_rows", []),  # what the walidata would hold
            "diff": summary.get("diff", []), "warnings": warnings + capped(source.warnings)}


async def get_submission(pool: asyncpg.Pool, principal: Principal, submission_id: uuid.UUID,
                         max_rejected: int, stall_after: float = 120.0) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await store.get_submission(conn, submission_id, stall_after)
        if row is None:
            raise NotFound("Kiriman tidak ditemukan.", code="submission_not_found")
        if row["publisher_id"] != principal.publisher_id and not principal.is_steward:
            raise Forbidden("Kiriman ini milik penerbit lain.", code="submission_not_yours")
        rejected = await store.rejected_rows(conn, submission_id, max_rejected)
    counts = ImportCounts(**{k: row[k] for k in ImportCounts.model_fields})
    return {**dict(row), "counts": counts, "rejected_rows": rejected}


async def list_submissions(pool: asyncpg.Pool, principal: Principal, limit: int,
                           cursor: str | None) -> dict[str, Any]:
    after = decode_cursor(cursor, 2, [datetime.fromisoformat, uuid.UUID]) if cursor else None
    async with pool.acquire() as conn:
        rows = await store.list_submissions(conn, principal.publisher_id, limit + 1, after)
    rows, next_cursor = page(rows, limit, lambda r: (r["created_at"].isoformat(), r["id"]))
    return {"items": [{**dict(r), "status_url": status_url(r["id"])} for r in rows],
            "next_cursor": next_cursor}


async def record_chunk_result(conn: asyncpg.Connection,
                              event: SubmissionChunkProcessedV1) -> bool:
    return await store.record_chunk_result(conn, event)


async def record_dead_letter(conn: asyncpg.Connection, letter: DeadLetterV1) -> bool:
    """A chunk of ours that ended in DEADLETTER (refused by the registry, or its summary
    refused here) makes it final with the reason; False when the letter is about anything else."""
    if letter.original_subject not in (SubmissionChunkV1.subject,
                                       SubmissionChunkProcessedV1.subject):
        return False
    try:
        data = Envelope.model_validate_json(letter.payload).data
        submission_id, chunk = uuid.UUID(str(data["submission_id"])), int(data["chunk"])
    except (ValueError, KeyError, TypeError):
        return False  # not even an envelope: nothing of ours to point at
    return await store.record_chunk_dead_letter(
        conn, submission_id, chunk, f"{letter.consumer}: {letter.reason}"[:2000])


async def reconcile(pool: asyncpg.Pool, settings: IngestSettings) -> None:
    """Run until cancelled: re-publish chunks that got no answer in ``republish_after`` s."""
    log = logging.getLogger("satudata.ingest.reconciler")
    while True:
        try:
            async with pool.acquire() as conn, conn.transaction():
                count = await store.republish_unprocessed(conn, settings.republish_after)
            if count:
                log.warning("re-published %d chunks without an answer after %.0fs", count,
                            settings.republish_after)
                continue
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - PostgreSQL away: try again next round
            log.warning("reconciler: %s", exc)
        await asyncio.sleep(settings.reconcile_interval)
