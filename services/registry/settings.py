from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

SCHEMA = "registry"  # the registry's PostgreSQL schema (its outbox and inbox too)


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore",
                                      populate_by_name=True)

    host: str = Field("127.0.0.1", description="address the registry listens on")
    port: int = Field(8001, description="port the registry listens on")
    consumer_batch: int = Field(1, description="submission chunks pulled per fetch and "
                                "applied in one transaction (more costs freshness)")
    consumer_linger: float = Field(0.05, description="seconds a fetch waits for more chunks "
                                   "before applying what it has (one transaction per fetch)")
    consumer_ack_wait: float = Field(5.0, description="seconds before an unacked chunk is "
                                     "redelivered (after a crash)")
    page_size_max: int = Field(1000, description="largest page of records served")
