"""Boundary routes: the walidata loads them; anyone reads a region's children's boundaries.
Registered before the regions router (its ``/regions/{code}`` would take the path)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.audit.web import AuditedConn
from services.registry.boundaries import models, service
from shared.web import ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["registry"])


@router.put("/regions/boundaries", response_model=models.BoundaryLoaded)
async def load_boundaries(body: models.BoundaryUpload, steward: Steward, conn: AuditedConn):
    """Load region boundaries from a GeoJSON FeatureCollection (Polygon or MultiPolygon, each
    feature's ``properties.code`` a Kemendagri code) with ``source``, ``sample`` (generated
    polygons, contoh) and the dates they hold between; they replace those loaded before for
    the same regions and ``valid_from`` (walidata)."""
    return await service.load(conn, steward, body.model_dump())


@router.get("/regions/boundaries", response_model=models.BoundaryCollection)
async def boundaries(conn: ReadConn,
                     parent: Annotated[str, Query(min_length=2, max_length=20,
                                                  description="the region whose children")],
                     on: Annotated[date | None, Query(description="the day they hold on "
                                                      "(the period's last day)")] = None):
    """The boundaries of a region's children (GeoJSON), as they were on ``on``."""
    return await service.children(conn, parent, on)
