"""Use cases that change what is published across topics: a chunk applied (``apply``),
a value withdrawn, a dataset's privacy changed. They sit above the topics they touch (records,
conflicts, verification, privacy, datasets, regions, access), which never import them back."""

from __future__ import annotations

import uuid

import asyncpg

from services.registry.audit import service as audit
from services.registry.datasets.service import get_dataset
from services.registry.privacy import service as privacy
from services.registry.publishing.apply import apply_rows, dry_run, process_chunk  # noqa: F401
from services.registry.records import service as records
from services.registry.regions import service as regions
from services.registry.verification import service as verification
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound

__all__ = ["apply_rows", "dry_run", "process_chunk", "put_privacy", "retract_record"]


async def retract_record(conn: asyncpg.Connection, principal: Principal, record_id: uuid.UUID,
                         reason: str) -> dict:
    """A new version with status ``retracted`` (values kept, so history shows what was
    withdrawn), by the walidata or a publisher authoritative for the dataset whose scope
    holds the region; the record row stays locked until the caller commits."""
    row = await records.lock_record(conn, record_id)
    if row is None:
        raise NotFound("Rekaman tidak ditemukan.", code="record_not_found")
    dataset = await get_dataset(conn, row["dataset"])  # 410 when withdrawn whole
    if not principal.is_steward:
        region = await regions.get_region(conn, row["region_code"])
        allowed = (principal.publisher_id in dataset["authoritative"]
                   and region is not None and principal.region_scope in region["path"])
        if not allowed:
            raise Forbidden("Hanya walidata atau produsen data yang berwenang atas dataset "
                            f"{dataset['slug']} yang boleh menarik nilai ini.",
                            code="retract_not_allowed")
    if row["status"] == "retracted":
        raise Conflict("Nilai ini sudah ditarik.", code="record_already_retracted")
    changed = await records.new_version(conn, record_id, status="retracted",
                                      publisher_id=principal.publisher_id,
                                      reason=reason.strip())
    await verification.return_with_record(  # before the event: no mark left
        conn, record_id, principal.publisher_id,
        f"Nilai ini ditarik sebelum diverifikasi: {reason.strip()}")
    await records.publish_records(conn, dataset["slug"], [changed])
    await audit.record(conn, principal, "record.retract", str(record_id), {"reason": reason})
    return await records.get_record(conn, record_id, reader=principal)


async def put_privacy(conn: asyncpg.Connection, steward: Principal, slug: str, body: dict
                       ) -> dict:
    """Saved (and written to the audit log), and the records whose public form changes are
    sent again on the bus."""
    dataset = await get_dataset(conn, slug, allow_retracted=True)
    saved = await privacy.save_settings(conn, dataset["id"], by=steward.publisher_id, **body)
    await audit.record(conn, steward, "dataset.privacy", slug, body)
    if saved["sensitive"]:
        await records.send_record_events(conn, await privacy.public_events(conn, slug, []))
    else:
        rows = await privacy.hidden_published(conn, dataset["id"])
        await privacy.forget_published(conn, [r["id"] for r in rows])
        await records.send_record_events(conn, [privacy.row_event(slug, r, r["vals"])
                                                for r in rows])
    return {"dataset": slug, **saved}
