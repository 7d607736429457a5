"""The models every registry topic shares: request bases (``Strict`` refuses unknown fields),
answer bases (``Open``), a region reference, and the notes several topics take. Each topic's
own API models live in its ``models.py``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.validation import Note


class Strict(BaseModel):
    """Request models refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RegionRef(Open):
    code: str = Field(examples=["64.08.04.2001"])
    name: str | None = Field(examples=["Sangatta Utara"])
    level: str | None = Field(None, examples=["desa"])


class RetractNote(Strict):
    reason: str = Field(min_length=3, max_length=1000,
                        description="why it is withdrawn (shown to everyone who asks for it)")


class ReviewNote(Strict):
    note: Note | None = None
