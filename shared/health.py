"""``/healthz`` (the process is alive) and ``/readyz`` (its database and NATS answer)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", include_in_schema=False)
    async def healthz():
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request):
        checks: dict[str, str] = {}
        runtime = getattr(request.state, "runtime", None)
        if runtime is not None:
            try:
                async with asyncio.timeout(2):
                    await runtime.pool.fetchval("SELECT 1")
                checks["database"] = "ok"
            except Exception as exc:  # noqa: BLE001 - readiness reports any failure
                checks["database"] = f"error: {type(exc).__name__}"
            checks["nats"] = "ok" if runtime.nats_connected else "error: not connected"
        for name, check in getattr(request.state, "ready_checks", {}).items():
            checks[name] = await check()
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                            status_code=200 if ok else 503)

    return router
