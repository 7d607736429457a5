"""Routes of the use cases that change what is published across topics: withdrawing a value,
a dataset's privacy, records moved to the code in force in their period, and the dry run
ingest calls (a chunk's apply, rolled back)."""

from __future__ import annotations

import json
import uuid

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.audit.web import AuditedConn
from services.registry.models import RetractNote
from services.registry.privacy.models import PrivacyPublic, PrivacyUpdate
from services.registry.publishing import models, relocation, service
from services.registry.records.models import RecordWithHistory, ValidateRequest
from shared.web import Caller, DryRunConn, ReadConn, Steward

router = APIRouter(prefix="/v1", tags=["registry"])
internal = APIRouter(prefix="/internal/v1", tags=["internal"], include_in_schema=False)


@router.post("/records/{record_id}/retract", response_model=RecordWithHistory)
async def retract_record(record_id: uuid.UUID, body: RetractNote, caller: Caller,
                         conn: AuditedConn):
    """A new version with status ``retracted`` (walidata, or the dataset's authoritative
    publisher): left out of aggregates and exports, kept in history, on the change feed."""
    return await service.retract_record(conn, caller, record_id, body.reason)


@router.put("/datasets/{slug}/privacy", response_model=PrivacyPublic, tags=["privacy"])
async def put_privacy(slug: str, body: PrivacyUpdate, steward: Steward, conn: AuditedConn):
    """Mark a dataset sensitive (walidata): every public read shows values 1..k-1 hidden,
    with enough other cells hidden that none can be recomputed from a total."""
    return await service.put_privacy(conn, steward, slug, body.model_dump())


@router.get("/regions/misplaced", response_model=models.MisplacedList,
            tags=["stewardship"])
async def misplaced(steward: Steward, conn: ReadConn,
                    dataset: Annotated[str | None, Query(max_length=100)] = None,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 1000):
    """Records stored under a code not yet in force in their period (an earlier rule followed a
    code to its successor), each with the codes in force then that it can move to."""
    return {"items": await relocation.misplaced(conn, dataset, limit)}


@router.post("/regions/misplaced/move", response_model=models.MoveResult,
             tags=["stewardship"])
async def move_misplaced(body: models.MoveRequest, steward: Steward, conn: AuditedConn):
    """Move records to the code in force in their period (walidata): the same values written
    there through the ordinary apply path, the misplaced record withdrawn with a reason, an
    audit entry per move; a target already holding a value is refused, never overwritten."""
    return await relocation.relocate(conn, steward, [m.model_dump() for m in body.moves],
                                     body.note)


@internal.post("/datasets/{slug}/validate")
async def validate(slug: str, body: ValidateRequest, caller: Caller,
                   conn: DryRunConn):
    outcome = await service.dry_run(conn, caller, slug, body.rows, locale=body.locale,
                                  sheet=body.sheet)
    return {"counts": outcome.counts.model_dump(),
            "rejected_rows": [r.model_dump() for r in outcome.rejected],
            "held_rows": json.loads(json.dumps(outcome.held, default=str)),
            "diff": json.loads(json.dumps(outcome.diff, default=str))}
