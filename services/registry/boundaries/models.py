"""Boundary upload and answer models: GeoJSON (RFC 7946) Polygon and MultiPolygon features,
longitude then latitude, each feature naming its Kemendagri code."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field

from shared.validation import Text

Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


def _closed(ring: list) -> list:
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise ValueError("cincin poligon harus tertutup: paling sedikit 4 titik, titik "
                         "terakhir sama dengan yang pertama")
    return ring


Ring = Annotated[list[tuple[Lon, Lat]], Field(max_length=100_000), AfterValidator(_closed)]
PolygonCoordinates = Annotated[list[Ring], Field(min_length=1, max_length=1000)]


class Polygon(BaseModel):
    type: Literal["Polygon"]
    coordinates: PolygonCoordinates


class MultiPolygon(BaseModel):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[PolygonCoordinates], Field(min_length=1, max_length=1000)]


class FeatureProperties(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a national file carries more; only code is read
    code: Text(20, min_length=2) = Field(
        validation_alias=AliasChoices("code", "kode", "kode_wilayah"),
        description="the Kemendagri code, with or without dots (64.08.04.2001, 6408042001); "
                    "also read as ``kode`` or ``kode_wilayah``")


class Feature(BaseModel):
    type: Literal["Feature"]
    properties: FeatureProperties
    geometry: Annotated[Polygon | MultiPolygon, Field(discriminator="type")]


class BoundaryUpload(BaseModel):
    """A FeatureCollection whose features each carry ``properties.code``."""

    model_config = ConfigDict(extra="ignore")  # name, crs, bbox of a national file: not read
    type: Literal["FeatureCollection"]
    features: list[Feature] = Field(min_length=1, max_length=2000)
    source: Text(500, min_length=3) = Field(description="where the boundaries come from "
                                                        "(BIG, the regency's decree, a file)")
    sample: bool = Field(False, description="generated sample polygons (contoh), not official")
    valid_from: date | None = Field(None, description="the first day they hold")
    valid_until: date | None = Field(None, description="the first day they no longer hold")


class BoundaryLoaded(BaseModel):
    loaded: int
    regions: list[str]
    source: str
    sample: bool


class BoundaryCollection(BaseModel):
    """GeoJSON FeatureCollection: each feature's properties name the region and the
    boundary's validity and source."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    on: date | None
    sample: bool = Field(description="some boundary shown is a generated sample (contoh)")
