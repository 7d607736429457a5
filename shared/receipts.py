"""Signed documents (submission receipts): canonical JSON signed with Ed25519.

A signed document is a JSON object with a ``signature`` member
``{"alg": "Ed25519", "key_id": ..., "value": base64url}``; the signature covers the RFC 8785
bytes of the object without that member, and the object names the same ``key_id`` at its top
level, so the key is part of what is signed. The file as served is itself canonical, so any
changed byte either changes what is signed or makes the file non-canonical: both fail.

Public keys are published as ``/.well-known/satudata-keys.json``:
``{"keys": [{"kid", "kty": "OKP", "crv": "Ed25519", "x": base64url, "use": "sig",
"status": "current"|"retired"}]}`` (JWK, RFC 8037); retired keys stay listed so receipts
signed before a rotation still verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey,
)

from shared.canonical import canonical

ALG = "Ed25519"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Strict: only the one encoding of the bytes is accepted (no padding, no spare bits)."""
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc
    if b64url(data) != text:
        raise ValueError("not the canonical base64url of its bytes")
    return data


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sd-ed25519-" + hashlib.sha256(raw).hexdigest()[:16]


def jwk(public: Ed25519PublicKey, status: str = "current") -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kid": key_id(public), "kty": "OKP", "crv": "Ed25519", "x": b64url(raw),
            "use": "sig", "alg": "EdDSA", "status": status}


def generate_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


def load_private(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the receipt signing key must be an Ed25519 key")
    return key


class Signer:
    """The platform's current signing key, plus the public keys of earlier ones."""

    def __init__(self, private: Ed25519PrivateKey, retired: list[dict] | None = None):
        self.private = private
        self.key_id = key_id(private.public_key())
        self.retired = [dict(k, status="retired") for k in retired or []
                        if k.get("kid") != self.key_id]

    def keys_document(self) -> dict:
        return {"keys": [jwk(self.private.public_key()), *self.retired]}

    def sign(self, document: dict[str, Any]) -> bytes:
        """The canonical bytes of ``document`` with ``key_id`` and ``signature`` added."""
        body = {**document, "key_id": self.key_id}
        body.pop("signature", None)
        value = self.private.sign(canonical(body))
        return canonical({**body, "signature": {"alg": ALG, "key_id": self.key_id,
                                                "value": b64url(value)}})


def public_keys(document: dict) -> dict[str, Ed25519PublicKey]:
    keys = {}
    for entry in document.get("keys", []):
        if entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519" and entry.get("kid"):
            keys[entry["kid"]] = Ed25519PublicKey.from_public_bytes(unb64url(entry["x"]))
    return keys


def verify(raw: bytes, keys: dict[str, Ed25519PublicKey]) -> tuple[bool, str, dict | None]:
    """(valid, reason, document). ``raw`` is the file as served (one trailing newline may
    have been added by whoever saved it)."""
    data = raw[:-1] if raw.endswith(b"\n") else raw
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return False, "not JSON", None
    if not isinstance(document, dict) or not isinstance(document.get("signature"), dict):
        return False, "no signature", None
    try:
        if canonical(document) != data:
            return False, "not in canonical form (RFC 8785): the file was changed", document
    except Exception:  # noqa: BLE001 - a value RFC 8785 cannot carry
        return False, "not canonical JSON", document
    signature = document["signature"]
    kid = signature.get("key_id")
    if signature.get("alg") != ALG or kid != document.get("key_id"):
        return False, "signature names another algorithm or key", document
    if kid not in keys:
        return False, f"unknown key {kid!r}", document
    body = {k: v for k, v in document.items() if k != "signature"}
    try:
        keys[kid].verify(unb64url(str(signature.get("value", ""))), canonical(body))
    except (InvalidSignature, ValueError):
        return False, "signature does not match the content", document
    return True, f"valid, signed with {kid}", document
