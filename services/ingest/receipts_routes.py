"""Routes of signed receipts: the receipt of a submission and the public keys."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.ingest import receipts
from shared.web import Caller, PoolDep

router = APIRouter(tags=["receipts"])

KID = "sd-ed25519-0123456789abcdef"
RECEIPT_EXAMPLE = {
    "api_key_id": "key_0a1b2c3d4e5f", "counts": {"conflict": 0, "created": 3, "failed": 0,
                                                  "held": 0, "rejected": 1, "unchanged": 0,
                                                  "updated": 0},
    "dataset": "jumlah-penduduk", "filename": None, "final_at": "2026-11-28T01:00:02.000000Z",
    "issued_at": "2026-11-28T01:00:05.000000Z", "key_id": KID,
    "outcomes": {"created": [[0, 2]], "rejected": [[3, 3]]},
    "publisher_id": "desa-64.08.04.2001", "received_at": "2026-11-28T01:00:00.000000Z",
    "rows": {"count": 4, "sha256": "9f2c" + "0" * 60},
    "signature": {"alg": "Ed25519", "key_id": KID, "value": "contoh-tanda-tangan"},
    "source": "json", "status": "completed",
    "submission_id": "0f8e7d6c-5b4a-4321-9876-0123456789ab", "type": "satudata.receipt.v1"}
KEYS_EXAMPLE = {"keys": [{"alg": "EdDSA", "crv": "Ed25519", "kid": KID, "kty": "OKP",
                          "status": "current", "use": "sig",
                          "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}
RECEIPT_RESPONSES = {200: {"description": (
    "the signed receipt: canonical JSON (RFC 8785), verify it with `satudata receipt verify`"),
    "content": {"application/json": {"schema": {"type": "object"},
                                     "example": RECEIPT_EXAMPLE}}}}
KEYS_RESPONSES = {200: {"description": "the platform's Ed25519 public keys (JWK)",
                        "content": {"application/json": {"schema": {"type": "object"},
                                                         "example": KEYS_EXAMPLE}}}}


@router.get("/v1/submissions/{submission_id}/receipt", responses=RECEIPT_RESPONSES,
            response_class=Response)
async def get_receipt(submission_id: uuid.UUID, request: Request, pool: PoolDep,
                      caller: Caller):
    """409 `receipt_not_ready` until the submission is final; served unchanged afterwards."""
    body = await receipts.receipt(pool, request.app.state.receipt_signer, caller,
                                  submission_id)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="tanda-terima-{submission_id}.json"'})


@router.get("/.well-known/satudata-keys.json", response_class=Response,
            responses=KEYS_RESPONSES)
async def public_keys(request: Request, pool: PoolDep):
    """Current and retired receipt keys; retired ones stay listed after a rotation, and the
    key of every stored receipt stays listed after a restore."""
    return Response(await receipts.keys_document(pool, request.app.state.receipt_signer),
                    media_type="application/json",
                    headers={"Cache-Control": "public, max-age=300"})
