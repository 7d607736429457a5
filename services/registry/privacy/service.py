"""Use cases of the privacy topic (issue 19): a dataset's suppression settings.

What a public reader sees of a sensitive dataset is decided in ``privacy.view``; the records,
statistics and change-feed use cases call it, and ``events.publish_records`` sends the public
form on the bus."""

from __future__ import annotations

import asyncpg

from services.registry.audit import service as audit
from services.registry.datasets.service import get_dataset
from services.registry.events import send_record_events
from services.registry.privacy import store
from services.registry.privacy.view import public_events, row_event
from shared.auth import Principal

DEFAULTS = {"sensitive": False, "k": 5, "publish_zero": True, "updated_by": None,
            "updated_at": None}


async def get_settings(conn: asyncpg.Connection, slug: str) -> dict:
    dataset = await get_dataset(conn, slug, allow_retracted=True)
    found = await store.get_settings(conn, dataset["id"])
    return {"dataset": slug, **(found or DEFAULTS)}


async def is_sensitive(conn: asyncpg.Connection, slug: str) -> bool:
    """Whether exports of this dataset carry the marker column of hidden cells."""
    return bool((await store.sensitive_by_slug(conn, [slug])).get(slug))


async def put_settings(conn: asyncpg.Connection, steward: Principal, slug: str, body: dict
                       ) -> dict:
    """Saved (and written to the audit log), and the records whose public form changes are
    sent again on the bus."""
    dataset = await get_dataset(conn, slug, allow_retracted=True)
    saved = await store.put_settings(conn, dataset["id"], by=steward.publisher_id, **body)
    await audit.record(conn, steward, "dataset.privacy", slug, body)
    if saved["sensitive"]:
        await send_record_events(conn, await public_events(conn, slug, []))
    else:
        rows = await store.hidden_published(conn, dataset["id"])
        await store.forget_published(conn, [r["id"] for r in rows])
        await send_record_events(conn, [row_event(slug, r, r["vals"]) for r in rows])
    return {"dataset": slug, **saved}
