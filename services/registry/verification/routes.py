"""HTTP routes for rules, the publication policy and the walidata's verification queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.registry.verification import decisions, models, service
from shared.auth import require_principal, require_steward
from shared.web import PoolDep

router = APIRouter(prefix="/v1", tags=["verification"])


@router.get("/datasets/{slug}/verification-policy", response_model=models.PolicyPublic)
async def get_policy(slug: str, request: Request, pool: PoolDep):
    """langsung (default) or verifikasi, with the outlier thresholds (walidata)."""
    require_steward(request.headers)
    async with pool.acquire() as conn:
        return await service.get_policy(conn, slug)


@router.put("/datasets/{slug}/verification-policy", response_model=models.PolicyPublic)
async def put_policy(slug: str, body: models.PolicyUpdate, request: Request, pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await service.put_policy(conn, principal, slug, body.model_dump())


@router.get("/datasets/{slug}/rules", response_model=models.RulesPublic)
async def list_rules(slug: str, request: Request, pool: PoolDep):
    require_steward(request.headers)
    async with pool.acquire() as conn:
        items = await service.list_rules(conn, slug)
    return {"items": items, "count": len(items)}


@router.post("/datasets/{slug}/rules", response_model=models.RulePublic, status_code=201)
async def create_rule(slug: str, body: models.RuleCreate, request: Request, pool: PoolDep):
    """The expression is parsed and checked against the dataset's measures and dimensions
    (422 ``invalid_rule`` saying what is wrong); it is never run as code."""
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await service.create_rule(conn, principal, slug, body.model_dump())


@router.put("/datasets/{slug}/rules/{rule_id}", response_model=models.RulePublic)
async def update_rule(slug: str, rule_id: int, body: models.RuleCreate, request: Request,
                      pool: PoolDep):
    require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await service.update_rule(conn, slug, rule_id, body.model_dump())


@router.delete("/datasets/{slug}/rules/{rule_id}", response_model=models.RulePublic)
async def delete_rule(slug: str, rule_id: int, request: Request, pool: PoolDep):
    """The rule removed (its answer is the rule as it was)."""
    require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await service.delete_rule(conn, slug, rule_id)


@router.post("/datasets/{slug}/rules/evaluate", response_model=models.RuleEvaluation)
async def evaluate_rules(slug: str, request: Request, pool: PoolDep,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Every current record of the dataset against its rules, now (walidata)."""
    require_steward(request.headers)
    async with pool.acquire() as conn:
        return await service.evaluate(conn, slug, limit)


@router.get("/verification", response_model=models.HeldList)
async def verification_queue(
        request: Request, pool: PoolDep,
        dataset: str | None = None,
        period: Annotated[str | None, Query(max_length=20)] = None,
        kecamatan: Annotated[str | None, Query(max_length=20)] = None,
        status: Annotated[str, Query(pattern="^(held|verified|returned|superseded)$")] = "held",
        submission_id: uuid.UUID | None = None, record_id: uuid.UUID | None = None,
        cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Held values, oldest first, with why and how releasing them changes the kecamatan's
    reporting rate. The walidata sees all; a publisher sees its own (and the notes on
    values returned to it)."""
    principal = require_principal(request.headers)
    q = {"dataset": dataset, "period": period, "kecamatan": kecamatan, "status": status,
         "submission_id": submission_id, "record_id": record_id}
    async with pool.acquire() as conn:
        return await service.queue(conn, principal, q, cursor, limit)


@router.post("/verification/{held_id}/verify", response_model=models.DecisionResult)
async def verify_one(held_id: uuid.UUID, request: Request, pool: PoolDep,
                     body: models.Decision | None = None):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await decisions.decide(conn, principal, "verify", {"ids": [held_id]},
                                      body.note if body else None)


@router.post("/verification/{held_id}/return", response_model=models.DecisionResult)
async def return_one(held_id: uuid.UUID, body: models.ReturnDecision, request: Request,
                     pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await decisions.decide(conn, principal, "return", {"ids": [held_id]}, body.note)


@router.post("/verification/verify", response_model=models.DecisionResult)
async def verify_bulk(body: models.BulkDecision, request: Request, pool: PoolDep):
    """Every held value the selection covers (ids, or a dataset with optional period and
    kecamatan), applied in one transaction."""
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await decisions.decide(conn, principal, "verify", body.model_dump(exclude={"note"}),
                                      body.note)


@router.post("/verification/return", response_model=models.DecisionResult)
async def return_bulk(body: models.BulkReturn, request: Request, pool: PoolDep):
    principal = require_steward(request.headers)
    async with pool.acquire() as conn, conn.transaction():
        return await decisions.decide(conn, principal, "return", body.model_dump(exclude={"note"}),
                                      body.note)
