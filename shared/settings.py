"""Settings base shared by the four services.

Each service subclasses ``ServiceSettings`` with its own env prefix (``REGISTRY_``, ``INGEST_``,
``SEARCH_``, ``GATEWAY_``). ``DATABASE_URL`` and ``NATS_URL`` are read unprefixed as a fallback so
one pair of variables serves a whole machine, while ``<PREFIX>DATABASE_URL`` can point one service
elsewhere. No module-level instances: tests build several apps in one process.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.signing import Keyring, SigningKey


def _aliases(prefix: str, name: str) -> AliasChoices:
    return AliasChoices(f"{prefix}{name}", name)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = "postgresql://postgres@127.0.0.1:5432/satudata"
    nats_url: str = "nats://127.0.0.1:4222"
    # Prefixes every NATS subject and stream name; lets tests share one nats-server.
    nats_namespace: str = ""
    # Create or update the streams at start: only with a user allowed to (the operator's);
    # a service with its own least-privilege user finds them made (`satudata migrate`, `up`)
    nats_manage_streams: bool = Field(True, validation_alias=AliasChoices(
        "NATS_MANAGE_STREAMS", "nats_manage_streams"))
    db_pool_min: int = 1
    db_pool_max: int = 10
    log_level: str = "INFO"
    # Signed calls between services (shared.signing): this service's own Ed25519 key (PEM, or
    # the 32-byte seed in base64url; ``<PREFIX>SIGNING_KEY`` or ``..._FILE``), and every
    # service's public keys (JSON, public), by which calls to this service are checked.
    signing_key: str = Field("", repr=False)
    signing_key_file: str = ""
    signing_public_keys: str = Field("", validation_alias=AliasChoices(
        "SATUDATA_SIGNING_PUBLIC_KEYS", "signing_public_keys"))
    signing_public_keys_file: str = Field("", validation_alias=AliasChoices(
        "SATUDATA_SIGNING_PUBLIC_KEYS_FILE", "signing_public_keys_file"))
    signature_max_age: float = Field(30.0, validation_alias=AliasChoices(
        "SATUDATA_SIGNATURE_MAX_AGE", "signature_max_age"))

    def signer(self, service: str) -> SigningKey:
        """This service's key (it signs as ``service`` and as nothing else)."""
        text = self.signing_key or (Path(self.signing_key_file).read_text()
                                    if self.signing_key_file else "")
        if not text:
            raise RuntimeError(f"{service}: no signing key ({service.upper()}_SIGNING_KEY or "
                               f"{service.upper()}_SIGNING_KEY_FILE)")
        return SigningKey.load(service, text)

    def keyring(self) -> Keyring:
        return Keyring.load(self.signing_public_keys, self.signing_public_keys_file)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs):
        super().__pydantic_init_subclass__(**kwargs)
        prefix = cls.model_config.get("env_prefix", "")
        for name in ("database_url", "nats_url", "nats_namespace"):
            field = cls.model_fields.get(name)
            if field is not None and prefix:
                field.validation_alias = _aliases(prefix, name.upper())
        for name in ("signing_key", "signing_key_file"):  # its own only: never unprefixed
            field = cls.model_fields.get(name)
            if field is not None and prefix:
                field.validation_alias = AliasChoices(f"{prefix}{name.upper()}", name)
        cls.model_rebuild(force=True)

