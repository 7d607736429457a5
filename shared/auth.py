"""Who is calling: the principal the gateway resolves from an API key and passes inward.

The gateway checks the key against the registry's key store and forwards the principal to the
services in the ``X-Satudata-Principal`` header (base64url JSON). Services trust that header, so
only the gateway is exposed; the services listen on 127.0.0.1 by default.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Literal

from pydantic import BaseModel, PrivateAttr

from shared.errors import Forbidden, Unauthorized

PRINCIPAL_HEADER = "X-Satudata-Principal"
Role = Literal["publisher", "walidata", "admin"]


class Principal(BaseModel):
    key_id: str
    publisher_id: str
    publisher_name: str
    role: Role
    region_scope: str  # the region this publisher may write for, descendants included
    datasets: list[str] = []  # slugs it may write; ["*"] for all
    # the caller's address as the gateway saw it, inside the signed principal header
    # (so a service can write it to the audit log and believe it)
    client_addr: str | None = None
    _as_sent: tuple[str, str] | None = PrivateAttr(default=None)

    def may_write(self, dataset: str) -> bool:
        return "*" in self.datasets or dataset in self.datasets or self.role != "publisher"

    @property
    def is_steward(self) -> bool:
        return self.role in ("walidata", "admin")

    def encode(self) -> str:
        return base64.urlsafe_b64encode(self.model_dump_json().encode()).decode()

    @classmethod
    def decode(cls, value: str) -> "Principal":
        return cls.model_validate_json(base64.urlsafe_b64decode(value.encode()))


def hash_key(raw: str) -> str:
    """API keys are stored and cached only as this hash, never in clear."""
    return hashlib.sha256(raw.encode()).hexdigest()


PROOF_HEADER = "X-Satudata-Principal-Proof"  # the gateway's, over the principal (shared.signing)


def principal_from_headers(headers) -> Principal | None:
    value = headers.get(PRINCIPAL_HEADER)
    if not value:
        return None
    try:
        principal = Principal.decode(value)
    except Exception as exc:  # noqa: BLE001 - a garbled header is an auth failure
        raise Unauthorized("Identitas pemanggil tidak valid.", code="invalid_principal") from exc
    # as it came, to act for the same user within the request (``forwarded_headers``)
    principal._as_sent = (value, headers.get(PROOF_HEADER, ""))
    return principal


def forwarded_headers(principal: Principal) -> dict[str, str]:
    """The headers that let a service act for ``principal`` on another: the principal as the
    gateway sent it, with the gateway's proof (a service cannot vouch for a user itself)."""
    value, proof = principal._as_sent or (principal.encode(), "")
    return {PRINCIPAL_HEADER: value, **({PROOF_HEADER: proof} if proof else {})}


def require_principal(headers) -> Principal:
    return ensure_principal(principal_from_headers(headers))


def require_steward(headers) -> Principal:
    return ensure_steward(principal_from_headers(headers))


def ensure_principal(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthorized("Kunci API diperlukan: kirim header Authorization: Bearer <kunci>.",
                           code="missing_api_key")
    return principal


def ensure_steward(principal: Principal | None) -> Principal:
    principal = ensure_principal(principal)
    if not principal.is_steward:
        raise Forbidden("Hanya walidata atau admin yang boleh melakukan ini.",
                        code="steward_only")
    return principal
