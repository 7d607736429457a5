"""Routes of signed receipts (issue 19): the receipt of a submission and the public keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.ingest import receipts
from shared.auth import require_principal
from shared.web import PoolDep

router = APIRouter(tags=["receipts"])

RECEIPT_RESPONSES = {200: {"content": {"application/json": {}}, "description": (
    "the signed receipt: canonical JSON (RFC 8785), verify it with `satudata receipt verify`")}}


@router.get("/v1/submissions/{submission_id}/receipt", responses=RECEIPT_RESPONSES,
            response_class=Response)
async def get_receipt(submission_id: uuid.UUID, request: Request, pool: PoolDep):
    """409 `receipt_not_ready` until the submission is final; served unchanged afterwards."""
    principal = require_principal(request.headers)
    body = await receipts.receipt(pool, request.app.state.receipt_signer, principal,
                                  submission_id)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="tanda-terima-{submission_id}.json"'})


@router.get("/.well-known/satudata-keys.json", response_class=Response,
            responses={200: {"content": {"application/json": {}},
                             "description": "the platform's Ed25519 public keys (JWK)"}})
async def public_keys(request: Request):
    """Current and retired receipt keys; retired ones stay listed after a rotation."""
    return Response(receipts.keys_document(request.app.state.receipt_signer),
                    media_type="application/json",
                    headers={"Cache-Control": "public, max-age=300"})
