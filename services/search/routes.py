"""GET /v1/search (public, proxied by the gateway); /metrics comes from shared.metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from services.search import service
from services.search.models import Filters, Kind, SearchResults
from shared.errors import BadRequest
from shared.web import PoolDep

router = APIRouter(tags=["search"])
PERIOD = r"^\d{4}(-[0-9A-Za-z]{1,3})?$"


@router.get("/v1/search", response_model=SearchResults)
async def search(
    request: Request, pool: PoolDep,
    q: Annotated[str, Query(max_length=200, description="kata kunci")] = "",
    kind: Kind | None = None,
    dataset: str | None = None,
    topic: str | None = None,
    region: Annotated[str | None, Query(description="kode wilayah; turunannya ikut")] = None,
    period_from: Annotated[str | None, Query(pattern=PERIOD)] = None,
    period_to: Annotated[str | None, Query(pattern=PERIOD)] = None,
    publisher: str | None = None,
    current: Annotated[bool, Query(description="hanya dataset yang datanya belum lewat "
                                               "tenggat (dan record-nya)")] = False,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
    prefix: Annotated[bool, Query(description="kata terakhir dicocokkan sebagai awalan")] = True,
) -> Response:
    settings = request.app.state.settings
    limit = limit or settings.page_size_default
    if limit > settings.page_size_max:
        raise BadRequest(f"Paling banyak {settings.page_size_max} hasil per halaman.",
                         code="page_size_too_large",
                         details=[{"field": "limit", "max": settings.page_size_max}])
    filters = Filters(kind=kind, dataset=dataset, topic=topic, region=region,
                      period_from=period_from, period_to=period_to, publisher=publisher,
                      current=current)
    _answer, body = await service.search_cached(
        pool, request.app.state.answer_cache, q, filters, limit=limit, cursor=cursor, prefix=prefix,
        typo_similarity=settings.typo_similarity, facet_values_max=settings.facet_values_max,
        statement_timeout_ms=settings.statement_timeout_ms, rank_limit=settings.rank_limit)
    # rendered once per answer (cached with it), not validated again per request
    return Response(content=body, media_type="application/json")
