"""Reference classification routes: public to read, loaded by the walidata."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.registry.audit.web import AuditedConn
from services.registry.classifications import models, service
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["classifications"])
Name = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,60}$")]


@router.get("/classifications", response_model=models.Classifications)
async def list_classifications(conn: ReadConn):
    """Every reference classification loaded (KBLI, KBJI, ...), with its source and size."""
    return {"items": await service.summaries(conn), "next_cursor": None}


@router.get("/classifications/{name}", response_model=models.Classification)
async def show_classification(name: Name, conn: ReadConn):
    return await service.get(conn, name)


@router.put("/classifications/{name}", response_model=models.Classification)
async def put_classification(name: Name, body: models.ClassificationIn, steward: Steward,
                             conn: AuditedConn):
    """Load (or replace) a classification's codes from the source it names (walidata).
    Datasets already defined keep the codes they took."""
    return await service.put(conn, steward, name, body.model_dump())
