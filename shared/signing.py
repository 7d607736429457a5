"""Signed identity between services: each service signs as itself, with a key only it holds.

Every call from one service to another carries an Ed25519 signature made with the calling
service's own private key (``<SERVICE>_SIGNING_KEY`` or ``..._FILE``, PEM) over:

    v2 \\n caller service \\n principal header \\n principal proof \\n method \\n path?query
       \\n sha256(body) \\n call id \\n unix time

The receiver (``SignatureMiddleware``, added to every service by ``shared.web.build_app``)
verifies it with the caller's public key from the keyring every service reads
(``SATUDATA_SIGNING_PUBLIC_KEYS``, JSON ``{"gateway": ["<base64url>"], ...}``, public), and
refuses with 401 what is unsigned, signed by an unknown caller or another key, altered in any
of those parts, older (or newer) than ``max_age`` seconds, or replayed (a call id seen within
the window). The body digest is checked while the body streams in. ``/healthz``, ``/readyz``
and ``/metrics`` need no signature.

No service can sign as another: it holds its own private key only (a shared HMAC secret let any
service sign as any caller). And a user's principal (``X-Satudata-Principal``) is believed only
from the gateway, the one service that authenticates users: in a call the gateway signed, or,
when another service acts within the same request (ingest's dry run asks the registry), with
the gateway's proof (``X-Satudata-Principal-Proof``, the gateway's signature over the principal
and a time, valid ``max_age`` seconds) forwarded unchanged.

Rotation: a service's entry in the keyring lists its public keys, old and new, while it rolls
over to the new private key (docs/runbooks/rotation.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import tempfile
import time
import uuid
from collections import OrderedDict
from pathlib import Path

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import PRINCIPAL_HEADER, PROOF_HEADER
from shared.errors import error_body

log = logging.getLogger("satudata.signing")

SERVICE_HEADER = "X-Satudata-Service"
TIME_HEADER = "X-Satudata-Time"
CALL_ID_HEADER = "X-Satudata-Call-Id"
DIGEST_HEADER = "X-Satudata-Body-SHA256"
SIGNATURE_HEADER = "X-Satudata-Signature"
# On a refusal: tells a caller (the gateway) that its own signature was refused, a
# misconfiguration between services, not the end user's fault.
REFUSED_HEADER = "X-Satudata-Refused"
UNSIGNED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
CHUNK = 256 * 1024
PRINCIPAL_ISSUER = "gateway"  # the one service that authenticates users


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SigningKey:
    """One service's private key: it signs as that service and as nothing else."""

    def __init__(self, service: str, private: Ed25519PrivateKey):
        self.service = service
        self.private = private

    @classmethod
    def generate(cls, service: str) -> "SigningKey":
        return cls(service, Ed25519PrivateKey.generate())

    @classmethod
    def load(cls, service: str, text: str) -> "SigningKey":
        """A PEM (PKCS#8) key, or its 32-byte seed in base64url (one line, for env files)."""
        text = text.strip()
        if text.startswith("-----BEGIN"):
            return cls.from_pem(service, text)
        return cls(service, Ed25519PrivateKey.from_private_bytes(unb64(text)))

    def seed(self) -> str:
        return b64(self.private.private_bytes(serialization.Encoding.Raw,
                                              serialization.PrivateFormat.Raw,
                                              serialization.NoEncryption()))

    @classmethod
    def from_pem(cls, service: str, pem: str | bytes) -> "SigningKey":
        key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem,
                                                 password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{service}: the signing key is not an Ed25519 key")
        return cls(service, key)

    def pem(self) -> bytes:
        return self.private.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())

    def public(self) -> str:
        return b64(self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                          serialization.PublicFormat.Raw))

    def sign(self, message: bytes) -> str:
        return b64(self.private.sign(message))


class Keyring:
    """Every service's public keys (several while one rotates), by service name."""

    def __init__(self, keys: dict[str, list[str]]):
        self.keys: dict[str, list[Ed25519PublicKey]] = {}
        for service, values in keys.items():
            values = [values] if isinstance(values, str) else values
            self.keys[service] = [Ed25519PublicKey.from_public_bytes(unb64(v)) for v in values]

    @classmethod
    def load(cls, text: str = "", path: str = "") -> "Keyring":
        if path and Path(path).exists():
            text = Path(path).read_text()
        return cls(json.loads(text) if text.strip() else {})

    def verify(self, service: str, message: bytes, signature: str) -> bool:
        try:
            raw = unb64(signature)
        except (binascii.Error, ValueError):
            return False
        for key in self.keys.get(service, ()):
            try:
                key.verify(raw, message)
                return True
            except InvalidSignature:
                continue
        return False


def canonical(service: str, principal: str, proof: str, method: str, target: str, digest: str,
              call_id: str, timestamp: str) -> bytes:
    return "\n".join(("v2", service, principal, proof, method.upper(), target, digest, call_id,
                      timestamp)).encode("utf-8", "surrogateescape")


def principal_proof(key: SigningKey, principal: str, now: float | None = None) -> str:
    """The gateway's word that it authenticated this principal, for another service to forward
    within the same request: ``t=<unix time>,s=<signature>``."""
    timestamp = str(int(now if now is not None else time.time()))
    return f"t={timestamp},s={key.sign(_proof_message(principal, timestamp))}"


def _proof_message(principal: str, timestamp: str) -> bytes:
    return f"satudata-principal\n{principal}\n{timestamp}".encode("utf-8", "surrogateescape")


def signed_headers(key: SigningKey, method: str, target: str, body: bytes,
                   principal: str = "", proof: str = "", *, now: float | None = None,
                   call_id: str | None = None) -> dict[str, str]:
    """The headers that make one call verifiable (``target`` is the raw path and query)."""
    digest = hashlib.sha256(body).hexdigest()
    call_id = call_id or uuid.uuid4().hex
    timestamp = str(int(now if now is not None else time.time()))
    signature = key.sign(canonical(key.service, principal, proof, method, target, digest,
                                   call_id, timestamp))
    return {SERVICE_HEADER: key.service, TIME_HEADER: timestamp, CALL_ID_HEADER: call_id,
            DIGEST_HEADER: digest, SIGNATURE_HEADER: f"ed25519={signature}"}


class ServiceAuth(httpx.Auth):
    """httpx auth that signs every request a service sends to another service (with the
    principal proof the request carries, if any).

    The body is read to digest it (``requires_request_body``), so callers send bytes, not
    streams; the gateway buffers a request body anyway before it opens an upstream call."""

    requires_request_body = True

    def __init__(self, key: SigningKey):
        self.key = key

    def auth_flow(self, request: httpx.Request):
        target = request.url.raw_path.decode("ascii")
        request.headers.update(signed_headers(
            self.key, request.method, target, request.content,
            request.headers.get(PRINCIPAL_HEADER, ""), request.headers.get(PROOF_HEADER, "")))
        yield request


class ReplayGuard:
    """Call ids seen within the window (per process; the window bounds the memory)."""

    def __init__(self, window: float, size: int = 200_000):
        self.window = window
        self.size = size
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, call_id: str, now: float) -> bool:
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if at > now - 2 * self.window and len(self._seen) < self.size:
                break
            self._seen.popitem(last=False)
        if call_id in self._seen:
            return False
        self._seen[call_id] = now
        return True


class _BadSignature(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _timestamp_ok(value: str) -> bool:
    # ASCII digits of a sane length: int() of '²' or of 5,000 digits raises
    return value.isascii() and value.isdigit() and len(value) <= 12


class SignatureMiddleware:
    """Pure ASGI: verifies every call except health and metrics (401 otherwise)."""

    def __init__(self, app: ASGIApp, *, keyring: Keyring, max_age: float = 30.0):
        self.app = app
        self.keyring = keyring
        self.max_age = max_age
        self.replays = ReplayGuard(max_age)
        if not keyring.keys:
            log.warning("no SATUDATA_SIGNING_PUBLIC_KEYS configured: every signed route "
                        "answers 401")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in UNSIGNED_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            claimed = self._verify_headers(scope)
        except _BadSignature as exc:
            log.warning("refused an unverified call to %s %s: %s", scope.get("method"),
                        scope.get("path"), exc.code)
            await _refuse(send, exc)
            return
        # The body is spooled (memory up to 1 MB, then a temporary file) and checked against
        # its digest before the app sees a byte of it: a handler never acts on altered data.
        spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
        try:
            digest = hashlib.sha256()
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                digest.update(chunk)
                spool.write(chunk)
                if not message.get("more_body"):
                    break
            if not hmac.compare_digest(digest.hexdigest(), claimed):
                log.warning("refused a call whose body was altered: %s", scope.get("path"))
                await _refuse(send, _BadSignature(
                    "signature_mismatch", "Isi permintaan tidak cocok dengan tanda tangannya."))
                return
            spool.seek(0)
            done = False

            async def replay() -> Message:
                nonlocal done
                if done:
                    return await receive()
                chunk = spool.read(CHUNK)
                more = spool.tell() < body_size
                done = not more
                return {"type": "http.request", "body": chunk, "more_body": more}

            body_size = spool.seek(0, 2)
            spool.seek(0)
            await self.app(scope, replay, send)
        finally:
            spool.close()

    def _verify_headers(self, scope: Scope) -> str:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        signature = headers.get(SIGNATURE_HEADER.lower(), "")
        if not signature:
            raise _BadSignature("unsigned_call", "Panggilan antarlayanan harus ditandatangani.")
        service = headers.get(SERVICE_HEADER.lower(), "")
        timestamp = headers.get(TIME_HEADER.lower(), "")
        call_id = headers.get(CALL_ID_HEADER.lower(), "")
        digest = headers.get(DIGEST_HEADER.lower(), "")
        principal = headers.get(PRINCIPAL_HEADER.lower(), "")
        proof = headers.get(PROOF_HEADER.lower(), "")
        if not (service and _timestamp_ok(timestamp) and call_id and len(digest) == 64
                and signature.isascii() and signature.startswith("ed25519=")):
            raise _BadSignature("invalid_signature", "Tanda tangan panggilan tidak lengkap.")
        now = time.time()
        if abs(now - int(timestamp)) > self.max_age:
            raise _BadSignature("stale_signature", "Tanda tangan panggilan sudah kedaluwarsa.")
        target = scope.get("raw_path") or scope.get("path", "").encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        message = canonical(service, principal, proof, scope.get("method", ""),
                            target.decode("latin-1"), digest, call_id, timestamp)
        if not self.keyring.verify(service, message, signature.removeprefix("ed25519=")):
            raise _BadSignature("invalid_signature", "Tanda tangan panggilan tidak valid.")
        if principal and service != PRINCIPAL_ISSUER and not self._proven(principal, proof, now):
            raise _BadSignature("principal_not_proven", "Hanya gateway yang boleh membawa "
                                                        "identitas pengguna.")
        if not self.replays.first_time(call_id, now):
            raise _BadSignature("replayed_call", "Panggilan ini sudah pernah diterima.")
        return digest

    def _proven(self, principal: str, proof: str, now: float) -> bool:
        """The gateway's proof for a principal another service forwards."""
        fields = dict(part.split("=", 1) for part in proof.split(",") if "=" in part)
        timestamp, signature = fields.get("t", ""), fields.get("s", "")
        if not (_timestamp_ok(timestamp) and signature.isascii()) or \
                abs(now - int(timestamp)) > self.max_age:
            return False
        return self.keyring.verify(PRINCIPAL_ISSUER, _proof_message(principal, timestamp),
                                   signature)


async def _refuse(send: Send, exc: _BadSignature) -> None:
    body = json.dumps(error_body(exc.code, exc.message)).encode()
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (REFUSED_HEADER.lower().encode(), b"signature")]})
    await send({"type": "http.response.body", "body": body})
