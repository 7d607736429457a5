"""Aggregate and completeness routes: reading across regions, always current."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.registry.statistics import models
from services.registry.statistics import comparable as lineage, service
from shared.web import DIMENSION_FILTERS, MaybeCaller, ReadConn

router = APIRouter(prefix="/v1", tags=["registry"])

AGGREGATE_PARAMS = {"dataset", "period", "period_from", "period_to", "measure", "region",
                    "sum", "comparable"}


@router.get("/aggregates", response_model=models.AggregatePublic,
            response_model_exclude_unset=True, openapi_extra=DIMENSION_FILTERS)
async def aggregates(
    request: Request, conn: ReadConn, reader: MaybeCaller, dataset: str,
    period: Annotated[str | None, Query(description="one period (same as from = to)")] = None,
    period_from: str | None = None, period_to: str | None = None,
    measure: Annotated[list[str] | None, Query(
        description="measures, repeated or comma-separated (default: every additive one)")
    ] = None,
    region: Annotated[str | None, Query(
        description="region code (default: the kabupaten)")] = None,
    sum: Annotated[bool, Query(
        description="false: each region's own values, never added up (non-additive "
                    "measures such as ratios are only available so)")] = True,
    comparable: Annotated[bool, Query(
        description="true (with region): one territory over time across splits, merges and "
                    "code changes; each period sums the regions of the region's lineage valid "
                    "then, and ``comparable.method`` says how")] = False,
):
    """Per period (a range, or every period with data): each measure summed over a region
    and each of its children, with the reporting units, the expected units and the rate;
    always current. Any other query parameter filters a dimension (``?jenis_kelamin=P``)."""
    dims = {k: v for k, v in request.query_params.items() if k not in AGGREGATE_PARAMS}
    names = [n.strip() for m in measure or [] for n in m.split(",") if n.strip()]
    if comparable:
        return await lineage.comparable(conn, dataset, region=region or "", period=period,
                                        period_from=period_from, period_to=period_to,
                                        measures=names, dims=dims, reader=reader)
    return await service.aggregate(conn, dataset, period=period, period_from=period_from,
                                   period_to=period_to, measures=names, region=region,
                                   dims=dims, summed=sum, reader=reader)


@router.get("/completeness", response_model=models.CompletenessPublic,
             response_model_exclude_unset=True)
async def completeness(conn: ReadConn, dataset: str, period: str, region: str | None = None):
    return await service.completeness(conn, dataset, period=period, region=region)
