"""The models every registry topic shares: request bases (``Strict`` refuses unknown fields),
answer bases (``Open``: only declared fields are answered), a region reference, and the notes
several topics take. Each topic's own API models live in its ``models.py``."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

from shared.validation import Note


class Strict(BaseModel):
    """Request models refuse unknown fields."""

    model_config = ConfigDict(extra="forbid")


# Answer models carry exactly the fields they declare: a key the use case adds without
# declaring it is dropped, never sent undocumented. The test suite sets
# SATUDATA_STRICT_ANSWERS=1 (tests/conftest.py), which refuses such a key instead, so a test
# that reaches it fails (a 500) and the field gets declared; production never answers 500 for it.
_UNDECLARED = "forbid" if os.environ.get("SATUDATA_STRICT_ANSWERS") == "1" else "ignore"


class Open(BaseModel):
    """Answer models: what the OpenAPI document shows is what the answer holds."""

    model_config = ConfigDict(extra=_UNDECLARED)


class RegionRef(Open):
    code: str = Field(examples=["64.08.04.2001"])
    name: str | None = Field(examples=["Sangatta Utara"])
    level: str | None = Field(None, examples=["desa"])


class RetractNote(Strict):
    reason: str = Field(min_length=3, max_length=1000,
                        description="why it is withdrawn (shown to everyone who asks for it)")


class ReviewNote(Strict):
    note: Note | None = None
