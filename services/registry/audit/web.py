"""Every privileged write audited, by one mechanism: the registry's write routes take their
transaction from ``AuditedConn``. When the caller is the walidata or an admin and the route's
use case wrote no entry of its own (most do, with the details that matter: a key's id, a
retraction's reason), one is written for it, ``<topic>.<route>`` with the path's parameters,
in the same transaction, just before the commit: a policy, a rule, a schedule, a verification
decision never goes unrecorded. A route that fails writes nothing (its transaction rolls back).
``tests/integration/registry/test_audit_every_route.py`` lists every write route a steward may
call and checks each is audited.
"""

from __future__ import annotations

from typing import Annotated, AsyncIterator

import asyncpg
from fastapi import Depends, Request

from services.registry.audit import service
from shared.auth import principal_from_headers


async def audited_conn(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.state.runtime.pool.acquire() as conn, conn.transaction():
        token = service._recorded.set(False)
        try:
            yield conn
            principal = principal_from_headers(request.headers)
            if principal is not None and principal.is_steward and not service._recorded.get():
                endpoint = request.scope.get("endpoint")
                topic = endpoint.__module__.split(".")[2] if endpoint else "registry"
                name = endpoint.__name__ if endpoint else request.method.lower()
                params = request.scope.get("path_params") or {}
                await service.record(conn, principal, f"{topic}.{name}",
                                     "/".join(str(v) for v in params.values()) or None,
                                     {"method": request.method, "path": request.url.path})
        finally:
            service._recorded.reset(token)


AuditedConn = Annotated[asyncpg.Connection, Depends(audited_conn, scope="function")]
