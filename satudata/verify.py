"""``satudata verify``: recompute the hash chains of record history and of the audit log,
and the hash of every statistical metadata version, and name every break. Exits 1 when
there is one."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from satudata import ownership
from services.registry.audit import service as audit
from services.registry.statistical_metadata import store as statistical_metadata
from shared.db import create_pool


async def verify_database(database_url: str, limit: int = 100) -> dict:
    pool = await create_pool(database_url, "registry")
    try:
        async with pool.acquire() as conn:
            report = await audit.verify(conn, limit=limit)
            forms = await statistical_metadata.hash_breaks(conn, limit)
            return {**report, "ok": report["ok"] and not forms, "metadata_breaks": forms}
    finally:
        await pool.close()


def describe(report: dict) -> list[str]:
    """One line per break, naming the record version or audit entry, then a summary."""
    lines = [f"record {b['record_id']} version {b['version']}: {b['problem']}"
             for b in report["record_version_breaks"]]
    lines += [f"record {b['record_id']} (current version {b['version']}): {b['problem']}"
              for b in report["record_head_breaks"]]
    lines += [f"audit entry {b['id']}: {b['problem']}" for b in report["audit_breaks"]]
    lines += [f"statistical metadata {b['dataset']} version {b['version']}: the stored hash "
              "is not its document's" for b in report.get("metadata_breaks", [])]
    if report.get("legacy_verified_notes"):
        lines.append(f"{report['legacy_verified_notes']} verified versions from before the "
                     "verification note was hashed: their note is not covered by the chain")
    verdict = "chains intact" if report["ok"] else "CHAINS BROKEN"
    lines.append(f"{verdict}: {report['versions']} record versions, "
                 f"{report['audit_entries']} audit entries (audit head {report['audit_head']})")
    return lines


def verify(
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
    limit: Annotated[int, typer.Option(help="breaks listed per kind, at most")] = 100,
) -> None:
    """Recompute every record version's hash chain and the audit log's chain; name each
    version or entry whose stored hash does not match (altered, removed or inserted rows).
    Exits 1 on any break. Note the printed audit head somewhere outside the database: a
    chain proves nothing was changed behind it, the noted head that nothing was cut off."""
    with ownership.visiting() as infra:
        report = asyncio.run(verify_database(infra.database_url, limit))
    if as_json:
        typer.echo(json.dumps(report, default=str, indent=2))
    else:
        for line in describe(report):
            typer.echo(f"satudata | {line}")
    raise typer.Exit(0 if report["ok"] else 1)
