"""The registry over HTTP: dataset fields (cached briefly) and dry-run validation.

Lives in the lifespan state; no import of the registry's code, only its documented routes
(docs/registry.md).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import httpx

from shared.auth import Principal, forwarded_headers
from shared.contracts import DatasetSchemaV1
from shared.errors import AppError, Gone, ServiceUnavailable, UpstreamError
from shared.logging import REQUEST_ID_HEADER, request_id_var

log = logging.getLogger("satudata.ingest.registry")


class DatasetNotFound(Exception):
    pass


class RegistryClient:
    def __init__(self, base_url: str, *, timeout: float = 10.0, cache_seconds: float = 30.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 auth: httpx.Auth | None = None):
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout,
                                      transport=transport, auth=auth)
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, dict]] = {}

    async def close(self) -> None:
        await self.http.aclose()

    def _headers(self, principal: Principal | None = None) -> dict[str, str]:
        headers = {}
        if principal is not None:  # as the gateway sent it, with its proof
            headers.update(forwarded_headers(principal))
        if rid := request_id_var.get():
            headers[REQUEST_ID_HEADER] = rid
        return headers

    async def dataset(self, slug: str) -> dict | None:
        """The dataset definition; None when the registry cannot be reached (a stale cached
        copy is preferred); raises DatasetNotFound on 404."""
        cached = self._cache.get(slug)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            response = await self.http.get(f"/v1/datasets/{quote(slug, safe='')}",
                                           headers=self._headers())
        except httpx.HTTPError as exc:
            log.warning("registry unreachable for dataset %s: %s", slug, exc)
            return cached[1] if cached else None
        if response.status_code == 404:
            self._cache.pop(slug, None)
            raise DatasetNotFound(slug)
        if response.status_code == 410:  # withdrawn by the walidata: nothing may land in it
            self._cache.pop(slug, None)
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {}
            raise Gone(error.get("message") or f"Dataset '{slug}' sudah ditarik.",
                       code="dataset_retracted", details=error.get("details"))
        if response.status_code >= 400:
            log.warning("registry answered %s for dataset %s", response.status_code, slug)
            return cached[1] if cached else None
        dataset = response.json()
        dataset["schema"] = DatasetSchemaV1.model_validate(dataset["schema"])  # typed, once
        self._cache[slug] = (time.monotonic() + self.cache_seconds, dataset)
        return dataset

    async def dataset_slugs(self) -> list[str]:
        try:
            response = await self.http.get("/v1/datasets", headers=self._headers())
            response.raise_for_status()
            return sorted(d["slug"] for d in response.json().get("items", []))
        except (httpx.HTTPError, KeyError, ValueError):
            return []

    async def resolve_regions(self, slug: str, values: list[str]) -> dict[str, str | None]:
        """Region cells -> codes as the registry resolves them; {} when it cannot answer
        (then only rows written alike count as repeats)."""
        try:
            response = await self.http.post(
                "/internal/v1/regions/resolve", json={"dataset": slug, "values": values},
                headers=self._headers())
            response.raise_for_status()
            return dict(response.json()["codes"])
        except (httpx.HTTPError, KeyError, ValueError, TypeError) as exc:
            log.warning("registry could not resolve region cells: %s", exc)
            return {}

    async def validate(self, slug: str, rows: list[dict[str, Any]], principal: Principal, *,
                       locale: str = "id", sheet: str | None = None) -> dict:
        try:
            response = await self.http.post(
                f"/internal/v1/datasets/{quote(slug, safe='')}/validate",
                json={"rows": rows, "locale": locale, "sheet": sheet},
                headers=self._headers(principal))
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                "Registry tidak dapat dihubungi untuk pemeriksaan (dry run); coba lagi nanti.",
                code="registry_unavailable") from exc
        if response.status_code < 400:
            return response.json()
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            raise UpstreamError("Registry memberi jawaban yang tidak dikenali.",
                                code="registry_error") from None
        if response.status_code >= 500:
            raise UpstreamError(error.get("message", "Registry gagal."), code="registry_error")
        failure = AppError(error.get("message", ""), code=error.get("code"),
                           details=error.get("details"))
        failure.status_code = response.status_code
        raise failure
