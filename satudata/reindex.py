"""`satudata reindex`: rebuild the search index from the registry's snapshot.

A plain function so the CLI can mount it with ``app.command()(reindex)``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import httpx

from shared.signing import ServiceAuth
import typer
from rich.console import Console

from services.search import indexing
from services.search.settings import SearchSettings
from shared.db import create_pool, run_migrations

SEARCH_DIR = Path(__file__).resolve().parent.parent / "services" / "search"


def reindex(
    registry_url: Annotated[str | None, typer.Option(
        help="registry base URL (default: SEARCH_REGISTRY_URL or http://127.0.0.1:8001)")] = None,
    database_url: Annotated[str | None, typer.Option(
        help="PostgreSQL URL (default: SEARCH_DATABASE_URL / DATABASE_URL)")] = None,
    page: Annotated[int, typer.Option(help="records fetched per snapshot page")] = 5000,
) -> dict:
    """Rebuild the search index from the registry (same documents as the live index)."""
    settings = SearchSettings()
    registry_url = registry_url or settings.registry_url
    database_url = database_url or settings.database_url
    console = Console(stderr=True)
    run_migrations(SEARCH_DIR, database_url)

    async def main() -> dict:
        pool = await create_pool(database_url, "search", min_size=1, max_size=2)
        try:
            auth = ServiceAuth(settings.signer("search"))
            async with httpx.AsyncClient(timeout=60, auth=auth) as client:
                return await indexing.reindex(client, pool, registry_url, page=page)
        finally:
            await pool.close()

    with console.status("Membangun ulang indeks pencarian..."):
        counts = asyncio.run(main())
    console.print(f"Indeks dibangun ulang: {counts['regions']} wilayah, "
                  f"{counts['datasets']} dataset, {counts['records']} record.")
    return counts
