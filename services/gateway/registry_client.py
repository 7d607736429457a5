"""What the gateway itself reads from the registry (CKAN, DCAT, exports, feeds, page titles,
keys), as typed calls: with the manifest (``manifest.py``, the public paths it forwards), the
one place in the gateway that knows a registry path. A 4xx answer raises ``PassThrough`` (the
client gets it unchanged); the registry away raises the upstream errors (``upstream.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from services.gateway.upstream import Upstreams

REGISTRY = "registry"


class RegistryReads:
    def __init__(self, upstreams: Upstreams) -> None:
        self.upstreams = upstreams

    async def _get(self, path: str, params=None) -> Any:
        return (await self.upstreams.get_json(REGISTRY, path, params=params))[1]

    async def datasets(self) -> list[dict]:
        return (await self._get("/v1/datasets")).get("items", [])

    async def dataset(self, slug: str) -> dict:
        return await self._get(f"/v1/datasets/{quote(slug, safe='')}")

    async def records_page(self, slug: str, params: list[tuple[str, str]]) -> dict:
        return await self._get(f"/v1/datasets/{quote(slug, safe='')}/records", params=params)

    async def records_file(self, slug: str, params: list[tuple[str, str]],
                           timeout: httpx.Timeout) -> httpx.Response:
        """An export, streamed (the caller closes the response)."""
        return await self.upstreams.send(REGISTRY, "GET",
                                         f"/v1/datasets/{quote(slug, safe='')}/records",
                                         params=params, stream=True, timeout=timeout)

    async def statistical_metadata(self) -> list[dict]:
        """Every dataset's verified BPS statistical metadata and what it lacks."""
        return (await self._get("/v1/statistical-metadata")).get("items", [])

    async def publishers(self) -> list[dict]:
        return (await self._get("/v1/publishers")).get("items", [])

    async def regions(self) -> list[dict]:
        return (await self._get("/v1/regions")).get("items", [])

    async def region(self, code: str) -> dict:
        return await self._get(f"/v1/regions/{quote(code, safe='')}")

    async def changes(self, since: int, limit: int) -> dict:
        """The change feed after ``since``: ``items`` and ``next``."""
        return await self._get("/v1/changes", params={"since": since, "limit": limit})

    async def timeliness(self, params: dict[str, str]) -> dict:
        return await self._get("/v1/timeliness", params=params)

    async def resolve_key(self, raw: str) -> httpx.Response:
        """The principal an API key stands for (the answer as it came: 200 or an error)."""
        return await self.upstreams.send(REGISTRY, "POST", "/internal/v1/auth/resolve",
                                         json={"key": raw})
