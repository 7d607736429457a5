"""Gateway settings (env prefix ``GATEWAY_``); no module-level instance."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore",
                                      populate_by_name=True)

    host: str = Field("127.0.0.1", description="address the gateway listens on")
    port: int = Field(8000, description="port the gateway listens on (the only public port)")
    registry_url: str = Field("http://127.0.0.1:8001", description="registry base URL; comma-separated for replicas")
    ingest_url: str = Field("http://127.0.0.1:8002", description="ingest base URL; comma-separated for replicas")
    search_url: str = Field("http://127.0.0.1:8003", description="search base URL; comma-separated for replicas")
    public_url: str = Field("", description="base URL clients see (CKAN, DCAT and portal "
                                            "links); empty = the address the gateway was "
                                            "started on, never a request's Host header")
    connect_timeout: float = Field(2.0, description="seconds to connect to an upstream")
    upstream_timeout: float = Field(15.0, description="seconds to wait for an upstream answer "
                                                      "(then 504)")
    export_timeout: float = Field(300.0, description="read timeout while streaming exports")
    get_retries: int = Field(2, description="extra tries for idempotent GETs on connection "
                                            "errors and upstream 502/503")
    max_connections: int = Field(200, description="pooled connections per upstream")
    pool_shards: int = Field(1, description="httpx clients per upstream, used in turn (at "
                                            "least one per replica)")
    key_cache_ttl: float = Field(5.0, description="seconds a resolved API key is trusted; a "
                                                  "revoked key stops working after this")
    key_cache_size: int = Field(10_000, description="most cached key resolutions")
    rate_limit_key: str = Field("1200/minute", description="requests per API key "
                                                           "(limits notation)")
    rate_limit_address: str = Field("300/minute", description="requests per client address "
                                                              "without a key")
    rate_limit_public_writes: str = Field("10/hour", description="writes anyone may make "
                                          "without a key (a citizen's report on a figure) per "
                                          "client address")
    rate_limit_auth_failures: str = Field("100/minute", description="failed authentications "
                                          "per client address, whatever the key (then 429)")
    redis_url: str = Field("", validation_alias=AliasChoices("GATEWAY_REDIS_URL", "REDIS_URL",
                                                             "redis_url"),
                           description="Redis for rate limits shared by every gateway replica "
                                       "(REDIS_URL); empty = in memory")
    rate_limit_strategy: Literal["sliding-window", "moving-window", "fixed-window"] = Field(
        "sliding-window", description="sliding-window (a weighted counter, the cheapest "
                                      "accurate one), moving-window or fixed-window")
    trust_forwarded_for: bool = Field(False, description="take the client address from "
                                                         "X-Forwarded-For (behind a proxy)")
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="with trust_forwarded_for: the proxies whose X-Forwarded-For is believed "
                    "(JSON list of addresses or networks, e.g. [\"10.0.0.0/8\"]); from any other "
                    "peer the header is ignored")

    def public_base(self) -> str:
        """The base of every absolute link the gateway writes: configured, else its own
        address (a client's Host header never decides where others are sent)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def forwarding_proxies(self) -> tuple:
        """The networks whose X-Forwarded-For is believed: none unless trust_forwarded_for."""
        if not self.trust_forwarded_for:
            return ()
        return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)
    cache_max_age: int = Field(30, description="Cache-Control max-age of public GETs, seconds")
    cors_origins: list[str] = Field(default_factory=list,
                                    description='allowed CORS origins, JSON list; ["*"] = any')
    max_body_bytes: int = Field(50 * 1024 * 1024, description="largest request body (413)")
    body_timeout: float = Field(30.0, description="seconds a request body may take to arrive "
                                                  "(408 after)")
    body_min_rate: float = Field(1024.0, description="slowest accepted request body, bytes/s "
                                                     "(after 5 s; 408 below)")
    uploads_per_key: int = Field(2, description="submissions in flight per API key (429 "
                                                "beyond)")
    gzip_min_size: int = Field(1024, description="smallest response that is gzipped")
    events_poll_interval: float = Field(2.0, description="seconds between change-feed polls "
                                                         "when NATS is quiet or down")
    events_per_key: int = Field(5, description="open event streams per API key (429 beyond)")
    events_per_address: int = Field(20, description="open event streams per client address "
                                                    "(429 beyond)")
    events_keepalive: float = Field(15.0, description="seconds between SSE keep-alive comments")
    openapi_ttl: float = Field(60.0, description="seconds the merged OpenAPI document is kept")
