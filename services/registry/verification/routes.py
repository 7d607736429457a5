"""HTTP routes for rules, the publication policy and the walidata's verification queue.

The transaction and the caller come from shared.web's dependencies (AuditedConn, Steward,
Caller); routes parse, call a use case and shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.verification import decisions, models, service
from services.registry.audit.web import AuditedConn
from shared.web import Caller, ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["verification"])


@router.get("/datasets/{slug}/verification-policy", response_model=models.PolicyPublic)
async def get_policy(slug: str, steward: Steward, conn: ReadConn):
    """langsung (default) or verifikasi, with the outlier thresholds (walidata)."""
    return await service.get_policy(conn, slug)


@router.put("/datasets/{slug}/verification-policy", response_model=models.PolicyPublic)
async def put_policy(slug: str, body: models.PolicyUpdate, steward: Steward, conn: AuditedConn):
    return await service.put_policy(conn, steward, slug, body.model_dump())


@router.get("/datasets/{slug}/rules", response_model=models.RulesPublic)
async def list_rules(slug: str, steward: Steward, conn: ReadConn):
    return await service.list_rules(conn, slug)


@router.post("/datasets/{slug}/rules", response_model=models.RulePublic, status_code=201)
async def create_rule(slug: str, body: models.RuleCreate, steward: Steward, conn: AuditedConn):
    """The expression is parsed and checked against the dataset's measures and dimensions
    (422 ``invalid_rule`` saying what is wrong); it is never run as code."""
    return await service.create_rule(conn, steward, slug, body.model_dump())


@router.put("/datasets/{slug}/rules/{rule_id}", response_model=models.RulePublic)
async def update_rule(slug: str, rule_id: int, body: models.RuleCreate, steward: Steward,
                      conn: AuditedConn):
    return await service.update_rule(conn, slug, rule_id, body.model_dump())


@router.delete("/datasets/{slug}/rules/{rule_id}", response_model=models.RulePublic)
async def delete_rule(slug: str, rule_id: int, steward: Steward, conn: AuditedConn):
    """The rule removed (its answer is the rule as it was)."""
    return await service.delete_rule(conn, slug, rule_id)


@router.post("/datasets/{slug}/rules/evaluate", response_model=models.RuleEvaluation)
async def evaluate_rules(slug: str, steward: Steward, conn: ReadConn,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100):
    """Every current record of the dataset against its rules, now (walidata)."""
    return await service.evaluate(conn, slug, limit)


@router.get("/verification", response_model=models.HeldList)
async def verification_queue(
        caller: Caller, conn: ReadConn,
        dataset: str | None = None,
        period: Annotated[str | None, Query(max_length=20)] = None,
        kecamatan: Annotated[str | None, Query(max_length=20)] = None,
        status: Annotated[str, Query(pattern="^(held|verified|returned|superseded)$")] = "held",
        submission_id: uuid.UUID | None = None, record_id: uuid.UUID | None = None,
        cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100):
    """Held values, oldest first, with why and how releasing them changes the kecamatan's
    reporting rate. The walidata sees all; a publisher sees its own (and the notes on
    values returned to it)."""
    q = {"dataset": dataset, "period": period, "kecamatan": kecamatan, "status": status,
         "submission_id": submission_id, "record_id": record_id}
    return await service.queue(conn, caller, q, cursor, limit)


@router.post("/verification/{held_id}/verify", response_model=models.DecisionResult)
async def verify_one(held_id: uuid.UUID, steward: Steward, conn: AuditedConn,
                     body: models.Decision | None = None):
    return await decisions.decide(conn, steward, "verify", {"ids": [held_id]},
                                  body.note if body else None)


@router.post("/verification/{held_id}/return", response_model=models.DecisionResult)
async def return_one(held_id: uuid.UUID, body: models.ReturnDecision, steward: Steward,
                     conn: AuditedConn):
    return await decisions.decide(conn, steward, "return", {"ids": [held_id]}, body.note)


@router.post("/verification/verify", response_model=models.DecisionResult)
async def verify_bulk(body: models.BulkDecision, steward: Steward, conn: AuditedConn):
    """Every held value the selection covers (ids, or a dataset with optional period and
    kecamatan), applied in one transaction."""
    return await decisions.decide(conn, steward, "verify", body.model_dump(exclude={"note"}),
                                  body.note)


@router.post("/verification/return", response_model=models.DecisionResult)
async def return_bulk(body: models.BulkReturn, steward: Steward, conn: AuditedConn):
    return await decisions.decide(conn, steward, "return", body.model_dump(exclude={"note"}),
                                  body.note)
