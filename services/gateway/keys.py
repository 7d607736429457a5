"""API keys: who is calling, and may they call this route.

A key arrives as ``Authorization: Bearer <key>``, ``Authorization: <key>`` (CKAN clients),
``X-API-Key`` or ``X-CKAN-API-Key``. It is resolved by the registry
(``POST /internal/v1/auth/resolve``) and the answer cached for a few seconds under the key's
sha256 (the raw key is never logged or kept), so a revoked key stops working everywhere within
``key_cache_ttl`` seconds.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from services.gateway.manifest import PUBLIC, STEWARD, access_of
from services.gateway.registry_client import RegistryReads
from shared.auth import Principal, hash_key
from shared.errors import AppError, Forbidden, Unauthorized

def raw_key(headers) -> str | None:
    value = headers.get("x-api-key") or headers.get("x-ckan-api-key")
    if value:
        return value.strip() or None
    auth = headers.get("authorization", "").strip()
    if not auth:
        return None
    scheme, _, rest = auth.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    if scheme.lower() in ("basic", "digest"):
        return None
    return auth  # CKAN: the bare key


def is_steward_route(method: str, path: str) -> bool:
    """Walidata and admin routes, as the manifest says (``manifest.ROUTES``)."""
    return access_of(method, path) == STEWARD


def check_access(method: str, path: str, principal: Principal | None) -> None:
    """Public reads need no key; keyed routes and every write need one; steward routes refuse
    publisher keys."""
    access = access_of(method, path)
    if principal is None and access != PUBLIC:
        raise Unauthorized("Kunci API diperlukan: kirim header Authorization: Bearer <kunci>.",
                           code="missing_api_key")
    if access == STEWARD and principal is not None and not principal.is_steward:
        raise Forbidden("Hanya walidata atau admin yang boleh melakukan ini.",
                        code="steward_only")


class KeyCache:
    def __init__(self, registry: RegistryReads, ttl: float, size: int):
        self.registry = registry
        self.ttl = ttl
        self.size = size
        # sha256(key) -> (expires_at, Principal or the AppError the registry gave)
        self._entries: OrderedDict[str, tuple[float, Principal | AppError]] = OrderedDict()

    async def resolve(self, raw: str) -> Principal:
        digest = hash_key(raw)
        now = time.monotonic()
        hit = self._entries.get(digest)
        if hit is None or hit[0] <= now:
            hit = (now + self.ttl, await self._ask_registry(raw))
            self._entries[digest] = hit
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        if isinstance(hit[1], AppError):
            raise hit[1]
        return hit[1]

    async def _ask_registry(self, raw: str) -> Principal | AppError:
        response = await self.registry.resolve_key(raw)
        if response.status_code == 200:
            return Principal.model_validate(response.json())
        code, message = "invalid_api_key", "Kunci API tidak dikenal."
        try:
            error = response.json()["error"]
            code, message = error.get("code", code), error.get("message", message)
        except (ValueError, KeyError, TypeError):
            pass
        if response.status_code in (401, 403, 404, 422):
            return Unauthorized(message, code=code)
        # anything else is not an answer about the key: do not cache it
        raise Unauthorized(message, code=code)
