"""Ingest settings (env prefix ``INGEST_``); no module-level instance."""

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore",
                                      populate_by_name=True)

    host: str = Field("127.0.0.1", description="address ingest listens on")
    port: int = Field(8002, description="port ingest listens on")
    registry_url: str = Field("http://127.0.0.1:8001",
                              description="registry base URL (dataset fields, dry-run validation)")
    registry_timeout: float = Field(10.0, description="seconds to wait for the registry")
    dataset_cache_seconds: float = Field(30.0, description="how long dataset fields are cached")
    max_body_bytes: int = Field(64 * 1024 * 1024,
                                description="largest request body accepted, as sent (413)")
    max_json_bytes: int = Field(
        32 * 1024 * 1024,
        description="largest JSON body (parsed in memory, unlike files, which are streamed)")
    max_decompressed_bytes: int = Field(
        256 * 1024 * 1024,
        description="largest body after gzip, or XLSX content after unzip (413 decompressed_too_large)")
    max_rows: int = Field(200_000, description="most rows in one submission (413 too_many_rows)")
    max_columns: int = Field(100, description="most columns in a CSV or XLSX header or keys in "
                             "a JSON row (422 too_many_columns)")
    max_cell_bytes: int = Field(8192, description="longest cell, in bytes (422 cell_too_large)")
    max_xlsx_cells: int = Field(
        3_000_000, description="most cells an XLSX sheet may use, counted from its XML before "
                               "it is read (413 too_many_cells)")
    chunk_rows: int = Field(500, description="most rows in one NATS chunk message")
    chunk_bytes: int = Field(256 * 1024,
                             description="most bytes of rows in one chunk (NATS payload limit is 1 MB)")
    parse_batch_rows: int = Field(2000, description="rows parsed and copied to PostgreSQL per step")
    consumer_batch: int = Field(32, description="registry summaries pulled per fetch")
    results_linger: float = Field(
        0.05, description="seconds a fetch of registry summaries waits for more before "
                          "recording what it has (one transaction per fetch)")
    stall_after: float = Field(120.0, description="seconds without progress before a submission "
                               "status shows stalled_since")
    republish_after: float = Field(
        300.0, description="seconds after which the reconciler re-publishes a chunk that got "
                           "no answer from the registry (applied once per chunk)")
    reconcile_interval: float = Field(30.0, description="seconds between reconciler rounds")
    max_pending_rows: int = Field(
        2_000_000, description="rows one publisher may have accepted but not yet processed by "
                               "the registry; past it a new submission gets 429 backlog_full")
    backlog_retry_after: int = Field(
        30, description="seconds in the Retry-After of a 429 backlog_full")
    max_inflight_chunks: int = Field(
        2, description="chunks of one publisher sent to NATS and not yet answered by the "
                       "registry; the relay holds the rest and sends publishers in turn, so a "
                       "village's row waits behind at most this many of another publisher's "
                       "chunks, never its whole backlog")
    max_rejected_shown: int = Field(5000, description="rejected rows listed in a status response")
    # the Ed25519 key that signs receipts (PEM, PKCS#8); never in the repository
    receipt_key: str = Field("", repr=False, validation_alias=AliasChoices(
        "INGEST_RECEIPT_KEY", "SATUDATA_RECEIPT_KEY", "receipt_key"),
        description="the receipt signing key itself (PEM), e.g. from a Secret")
    receipt_key_file: str = Field("", validation_alias=AliasChoices(
        "INGEST_RECEIPT_KEY_FILE", "SATUDATA_RECEIPT_KEY_FILE", "receipt_key_file"),
        description="file holding the receipt signing key (PEM); `make up` writes one")
    receipt_retired_keys_file: str = Field("", validation_alias=AliasChoices(
        "INGEST_RECEIPT_RETIRED_KEYS_FILE", "SATUDATA_RECEIPT_RETIRED_KEYS_FILE",
        "receipt_retired_keys_file"),
        description="JSON {\"keys\": [JWK]} of earlier public keys, still listed")
    ckan_resource_map: dict[str, str] = Field(
        default_factory=dict,
        description='CKAN resource_id -> dataset slug, JSON (e.g. {"3f2a...": "jumlah-penduduk"}); '
                    "a resource_id equal to a dataset slug needs no entry")
