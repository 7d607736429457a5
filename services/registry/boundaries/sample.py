"""Generated sample boundaries (contoh), never official: every kecamatan a cell of a grid over
the regency's rough extent, every village a cell of its kecamatan's. Enough for the maps of a
demo and of the tests; the walidata loads the real ones (BIG's, the decree's) over them."""

from __future__ import annotations

import math

EXTENT = (116.0, 0.2, 118.8, 1.8)  # lon/lat box around Kutai Timur, roughly
SOURCE = "Poligon contoh buatan platform (sample data), bukan batas wilayah resmi"


def _cells(box: tuple[float, float, float, float], n: int) -> list[tuple]:
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    west, south, east, north = box
    w, h = (east - west) / cols, (north - south) / rows
    return [(west + (i % cols) * w, north - (i // cols + 1) * h,
             west + (i % cols + 1) * w, north - (i // cols) * h) for i in range(n)]


def _square(cell: tuple) -> dict:
    w, s, e, n = (round(x, 5) for x in cell)
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def sample_boundaries(regions: list[dict]) -> list[tuple[str, dict]]:
    """(code, geometry) for every kecamatan and village in force of ``regions``."""
    live = [r for r in regions if r.get("valid_until") is None]
    districts = sorted((r for r in live if r["level"] == "kecamatan"), key=lambda r: r["code"])
    out = []
    for district, cell in zip(districts, _cells(EXTENT, len(districts))):
        out.append((district["code"], _square(cell)))
        villages = sorted((r for r in live if r.get("parent_code") == district["code"]),
                          key=lambda r: r["code"])
        out += [(v["code"], _square(c)) for v, c in zip(villages, _cells(cell, len(villages)))]
    return out
