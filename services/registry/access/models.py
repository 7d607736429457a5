"""Publishers and API keys: what the walidata creates and lists, what the gateway resolves."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.registry.models import Open, Strict
from shared.validation import Code, Text
from shared.pagination import Page


class KeyResolve(Strict):
    key: str = Field(min_length=8, max_length=200)


class PublisherCreate(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,80}$")
    name: Text(200, min_length=2)
    kind: Literal["desa", "kecamatan", "opd"]
    region_scope: Code
    datasets: list[Text(100)] = Field([], max_length=500)


class PublisherUpdate(Strict):
    """Fields left out stay as they are; an explicit ``null`` is refused (422)."""

    name: Text(200, min_length=2) = None
    region_scope: Code = None
    datasets: list[Text(100)] = Field(None, max_length=500)


class PublisherPublic(BaseModel):
    id: str
    name: str
    kind: str
    region_scope: str
    datasets: list[str]


class KeyCreate(Strict):
    publisher_id: Text(100)
    role: Literal["publisher", "walidata", "admin"] = "publisher"
    label: Text(200) = ""
    expires_at: datetime | None = None


class KeyPublic(BaseModel):
    id: str
    publisher_id: str
    role: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="the raw key: shown once, stored only as a hash")


class PublisherListItem(Open):
    id: str = Field(examples=["disdukcapil"])
    name: str
    kind: str
    region_scope: str | None
    datasets: list[str]


class PublishersList(Page[PublisherListItem], Open):
    pass


class KeysPublic(Page[KeyPublic], Open):
    pass
