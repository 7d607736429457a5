"""Audit trail of privileged actions, chained like record history (issue 19).

Every use case that changes who may do what, what a dataset is, where a region is, or
settles a disagreement calls ``record(conn, principal, action, target, details)`` inside its
own transaction: the entry commits with the change or not at all. Entries form one chain:
each ``hash`` is sha256(previous entry's hash || its fields) (``audit_hash`` in migration
0009), so an entry altered or removed in the database shows up in ``satudata verify``.

Actions in use: key.create, key.revoke, dataset.create, dataset.update, dataset.retract,
dataset.restore, record.retract, region.import, alias.import, alias.approve, alias.refuse,
publisher.create, publisher.update, conflict.accept, conflict.reject; reserved for features
built alongside: verification.decide, export.nonpublic.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from services.registry.audit import store
from shared.auth import Principal
from shared.logging import request_id_var


async def record(conn: asyncpg.Connection, principal: Principal, action: str,
                 target: str | None, details: dict[str, Any] | None = None) -> dict:
    """Append one entry (who, what, when, from where) to the chain; the caller commits."""
    return await store.append(conn, actor=principal.publisher_id, key_id=principal.key_id,
                              role=principal.role, action=action, target=target,
                              details=details or {}, client_addr=principal.client_addr,
                              request_id=request_id_var.get())
