"""The gateway's parts, built once per app in the lifespan and reached through ``GatewayDep``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from services.gateway.ckan import Ckan
from services.gateway.events import ChangeHub
from services.gateway.keys import KeyCache, check_access, raw_key
from services.gateway.openapi import OpenApiCache
from services.gateway.settings import GatewaySettings
from services.gateway.upstream import SERVICES, Upstreams
from services.gateway.registry_client import RegistryReads
from shared.auth import Principal
from shared.errors import TooManyRequests


@dataclass
class Gateway:
    settings: GatewaySettings
    upstreams: Upstreams
    registry: RegistryReads
    keys: KeyCache
    hub: ChangeHub
    openapi: OpenApiCache
    ckan: Ckan
    uploads: dict[str, int] = field(default_factory=dict)  # key id -> uploads in flight

    @classmethod
    def open(cls, settings: GatewaySettings) -> "Gateway":
        upstreams = Upstreams.open(settings)
        registry = RegistryReads(upstreams)
        return cls(settings=settings, upstreams=upstreams, registry=registry,
                   keys=KeyCache(registry, settings.key_cache_ttl, settings.key_cache_size),
                   hub=ChangeHub(registry, settings.events_poll_interval,
                                 per_key=settings.events_per_key,
                                 per_address=settings.events_per_address),
                   openapi=OpenApiCache(upstreams, settings.openapi_ttl),
                   ckan=Ckan(registry))

    async def close(self) -> None:
        await self.hub.close()
        await self.upstreams.close()

    async def authorize(self, method: str, path: str, headers) -> Principal | None:
        """The caller's principal (None for an anonymous read); raises 401/403."""
        raw = raw_key(headers)
        principal = await self.keys.resolve(raw) if raw else None
        check_access(method, path, principal)
        return principal

    @contextlib.asynccontextmanager
    async def upload_slot(self, principal: Principal | None, service: str):
        """At most ``uploads_per_key`` submissions per key in flight (429 beyond): one key's
        slow or numerous uploads cannot hold every connection to ingest."""
        if principal is None or service != "ingest":
            yield
            return
        key = principal.key_id
        if self.uploads.get(key, 0) >= self.settings.uploads_per_key:
            raise TooManyRequests(
                f"Paling banyak {self.settings.uploads_per_key} kiriman bersamaan per kunci; "
                "tunggu kiriman sebelumnya selesai.", code="too_many_uploads",
                headers={"Retry-After": "5"})
        self.uploads[key] = self.uploads.get(key, 0) + 1
        try:
            yield
        finally:
            self.uploads[key] -= 1
            if not self.uploads[key]:
                del self.uploads[key]

    def ready_checks(self) -> dict:
        def check(name):
            return lambda: self.upstreams.healthz(name)
        return {name: check(name) for name in SERVICES}

    def base_url(self, request: Request) -> str:
        return self.settings.public_base()


async def get_gateway(request: Request) -> Gateway:
    return request.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
