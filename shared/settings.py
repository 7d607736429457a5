"""Settings base shared by the four services.

Each service subclasses ``ServiceSettings`` with its own env prefix (``REGISTRY_``, ``INGEST_``,
``SEARCH_``, ``GATEWAY_``). ``DATABASE_URL`` and ``NATS_URL`` are read unprefixed as a fallback so
one pair of variables serves a whole machine, while ``<PREFIX>DATABASE_URL`` can point one service
elsewhere. No module-level instances: tests build several apps in one process.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    # Signed calls between services (shared.signing): the secret every service shares, and the
    # previous one, still accepted while a new secret rolls out.
    service_secret: str = Field("", validation_alias=AliasChoices("SATUDATA_SERVICE_SECRET",
                                                                  "service_secret"),
                                repr=False)
    service_secret_previous: str = Field(
        "", validation_alias=AliasChoices("SATUDATA_SERVICE_SECRET_PREVIOUS",
                                          "service_secret_previous"), repr=False)
    signature_max_age: float = Field(30.0, validation_alias=AliasChoices(
        "SATUDATA_SIGNATURE_MAX_AGE", "signature_max_age"))

    @property
    def service_secrets(self) -> list[str]:
        return [s for s in (self.service_secret, self.service_secret_previous) if s]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs):
        super().__pydantic_init_subclass__(**kwargs)
        prefix = cls.model_config.get("env_prefix", "")
        for name in ("database_url", "nats_url", "nats_namespace"):
            field = cls.model_fields.get(name)
            if field is not None and prefix:
                field.validation_alias = _aliases(prefix, name.upper())
        cls.model_rebuild(force=True)

