"""Import bodies for the walidata's region and alias imports: JSON rows, a CSV body, or a
multipart CSV file, read into one request model."""

from __future__ import annotations

import csv
import io
import json

from fastapi import Request
from pydantic import BaseModel, ValidationError

from shared.errors import BadRequest, PayloadTooLarge, Unprocessable
from shared.i18n import validation_details


UPLOAD_MAX = 5 * 1024 * 1024


CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


async def rows_body(request: Request, model: type[BaseModel]) -> BaseModel:
    """The body as ``model``: JSON ``{"rows": [...]}``, a CSV body, or a multipart file."""
    raw, data = await _read(request)
    if len(raw) > UPLOAD_MAX:
        raise PayloadTooLarge("Berkas lebih dari 5 MB.", code="file_too_large")
    if isinstance(data, dict) and "source" not in model.model_fields:
        data.pop("source", None)  # CSV uploads may name a source; region imports keep none
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc.errors(), drop=(), limit=50)
        raise Unprocessable("Baris impor tidak valid; periksa kolom yang disebut (rows.<baris>"
                            ".<kolom>, baris dihitung dari 0).", code="validation_failed",
                            details=details) from exc


async def _read(request: Request) -> tuple[bytes, object]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("Unggah berkas CSV di kolom 'file'.", code="file_required")
        raw = await upload.read(UPLOAD_MAX + 1)
        data = {"rows": _csv_rows(raw)}
        if form.get("source"):
            data["source"] = str(form["source"])
        return raw, data
    raw = await request.body()
    if content_type in CSV_TYPES:
        data = {"rows": _csv_rows(raw)}
        if request.query_params.get("source"):
            data["source"] = request.query_params["source"]
        return raw, data
    try:
        return raw, json.loads(raw or b"null")
    except ValueError as exc:
        raise BadRequest("Badan permintaan bukan JSON maupun CSV.", code="invalid_body") \
            from exc


def _csv_rows(raw: bytes) -> list[dict]:
    if len(raw) > UPLOAD_MAX:
        raise PayloadTooLarge("Berkas lebih dari 5 MB.", code="file_too_large")
    text = raw.decode("utf-8-sig", errors="replace")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [{k.strip().lower(): (v.strip() if v and v.strip() else None)
             for k, v in row.items() if k} for row in reader]
