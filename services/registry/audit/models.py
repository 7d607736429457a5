"""API models of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from shared.pagination import Page


class AuditEntry(BaseModel):
    id: int
    at: datetime
    actor: str
    key_id: str | None
    role: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    client_addr: str | None
    request_id: str | None
    prev_hash: str | None
    hash: str


class AuditPage(Page[AuditEntry]):
    pass
