"""API models for privacy-safe publishing."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Suppressed(BaseModel):
    """A value hidden from the public: below the threshold k, or hidden with it so that it
    cannot be recomputed from a total."""
    value: None = None
    suppressed: bool = Field(True, examples=[True])
    reason: str = Field(examples=["kurang_dari_5", "komplementer", "nol_disembunyikan"])


class PrivacyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sensitive: bool = Field(True, description="true: small counts are hidden in public reads")
    k: int = Field(5, ge=2, le=100, description="values 1..k-1 are hidden")
    publish_zero: bool = Field(True, description="false: zero is hidden as well")


class PrivacyPublic(BaseModel):
    dataset: str = Field(examples=["jumlah-penyandang-disabilitas"])
    sensitive: bool = Field(examples=[True])
    k: int = Field(examples=[5])
    publish_zero: bool = Field(examples=[True])
    updated_by: str | None = Field(None, examples=["walidata"])
    updated_at: datetime | None = None
