from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class SearchSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SEARCH_", extra="ignore",
                                      populate_by_name=True)

    host: str = Field("127.0.0.1", description="address the search service listens on")
    port: int = Field(8003, description="port the search service listens on")
    registry_url: str = Field("http://127.0.0.1:8001",
                              description="registry base URL (snapshot for `satudata reindex`)")
    page_size_default: int = Field(20, description="results per page when `limit` is not given")
    page_size_max: int = Field(100, description="largest page of results served")
    facet_values_max: int = Field(50, description="values shown per facet (counts stay exact)")
    consumer_batch: int = Field(16, description="registry events pulled per fetch, indexed "
                                "together in one transaction")
    consumer_linger_s: float = Field(0.05, description="longest a fetch waits for events once "
                                     "the stream is quiet (freshness: keep it short)")
    consumer_concurrency: int = Field(4, description="indexing loops sharing the durable consumer "
                                      "in this process (each its own transaction)")
    typo_similarity: float = Field(0.45, description="trigram similarity a vocabulary word "
                                   "needs to stand in for a misspelt query word")
    rank_limit: int = Field(2000, description="above this many (estimated) record matches, the "
                            "first page walks records in their stored static rank instead of "
                            "ranking every match")
    answer_cache_size: int = Field(2000, description="answers kept per process, keyed by the "
                                   "index version (0 turns the cache off)")
    statement_timeout_ms: int = Field(5000, description="longest a search query may run")
