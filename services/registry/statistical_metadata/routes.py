"""Statistical metadata routes: the public reads a dataset's verified forms (JSON, or the BPS
layout workbook); its producer or the walidata submits a new version; the walidata verifies
or returns it; every dataset's state in one list (for the desk, EPSS, CKAN and DCAT)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.registry.audit.web import AuditedConn
from services.registry.statistical_metadata import forms, models, service
from shared.web import Caller, ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["statistical-metadata"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Version = Annotated[int, Path(ge=1, le=1_000_000)]


@router.get("/statistical-metadata", response_model=models.Overviews)
async def overview(conn: ReadConn, complete: bool | None = None):
    """Every dataset in force with its verified statistical metadata and, field by field, what
    a complete form still needs; ``?complete=false`` lists the incomplete ones. ``count`` is
    the datasets listed, ``complete`` how many of all are complete."""
    return await service.overview(conn, complete=complete)


@router.get("/datasets/{slug}/statistical-metadata", response_model=models.Published,
            responses={200: {"content": {XLSX: {
                "schema": {"type": "string", "format": "binary"},
                "example": "(a workbook: MS-Kegiatan, one MS-Variabel/MS-Indikator per measure)"}},
                "description": "the verified forms; with ?format=xlsx, the BPS layout"}})
async def published(slug: str, conn: ReadConn,
                    format: Annotated[str, Query(pattern="^(json|xlsx)$")] = "json"):
    """The newest verified MS-Kegiatan and the measures' MS-Variabel/MS-Indikator, with what
    is missing; ``?format=xlsx``: the forms in BPS layout, to hand over as they are."""
    answer = await service.published(conn, slug)
    if format == "json":
        return answer
    return Response(forms.workbook(answer), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="metadata-statistik-{slug}.xlsx"'})


@router.put("/datasets/{slug}/statistical-metadata", response_model=models.Version,
            status_code=201)
async def submit(slug: str, body: models.Document, caller: Caller, conn: AuditedConn):
    """A new version of the forms, held for the walidata (a held one before it is
    superseded). An indicator's formula and components must name the dataset's measures
    (422 ``unknown_measure``, ``invalid_formula``). Its producer or the walidata."""
    return await service.submit(conn, caller, slug, body)


@router.get("/datasets/{slug}/statistical-metadata/versions", response_model=models.Versions)
async def versions(slug: str, caller: Caller, conn: ReadConn,
                   cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,7}$")] = None,
                   limit: Annotated[int, Query(ge=1, le=200)] = 50):
    """Every version, newest first, with its status, the walidata's note and its hash (its
    producer or the walidata)."""
    return await service.history(conn, caller, slug, int(cursor) if cursor else None, limit)


@router.post("/datasets/{slug}/statistical-metadata/versions/{version}/verify",
             response_model=models.Version)
async def verify(slug: str, version: Version, steward: Steward, conn: AuditedConn,
                 body: models.VerifyNote | None = None):
    """The walidata verifies a held version: it becomes the published one."""
    return await service.decide(conn, steward, slug, version, "verified",
                                body.note if body else None)


@router.post("/datasets/{slug}/statistical-metadata/versions/{version}/return",
             response_model=models.Version)
async def return_(slug: str, version: Version, body: models.ReturnNote, steward: Steward,
                  conn: AuditedConn):
    """The walidata returns a held version with a note saying what to fix."""
    return await service.decide(conn, steward, slug, version, "returned", body.note)
