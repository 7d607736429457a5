"""Import bodies for the walidata's region and alias imports: JSON rows, a CSV body, or a
multipart CSV or XLSX file, read into one request model."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path

from fastapi import Request
from pydantic import BaseModel, ValidationError

from shared.errors import BadRequest, PayloadTooLarge, Unprocessable
from shared.i18n import validation_details
from shared.xlsx_bounds import check_sheet, check_zip_expansion


UPLOAD_MAX = 5 * 1024 * 1024


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
        data = {"rows": _xlsx_rows(raw) if raw[:4] == b"PK\x03\x04" else _csv_rows(raw)}
        if form.get("source"):
            data["source"] = str(form["source"])
        return raw, data
    raw = await request.body()
    if content_type == XLSX_TYPE:
        return raw, {"rows": _xlsx_rows(raw)}
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


def _xlsx_rows(raw: bytes) -> list[dict]:
    """The first sheet's rows under its header row, checked for size before it is read."""
    from python_calamine import CalamineWorkbook

    if len(raw) > UPLOAD_MAX:
        raise PayloadTooLarge("Berkas lebih dari 5 MB.", code="file_too_large")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wilayah.xlsx"
        path.write_bytes(raw)
        check_zip_expansion(path, 8 * UPLOAD_MAX)
        check_sheet(path, max_rows=10_000, max_columns=50, max_cells=200_000)
        try:
            sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        except Exception as exc:  # noqa: BLE001 - calamine raises its own error types
            raise Unprocessable("Berkas XLSX tidak dapat dibaca.", code="malformed_xlsx") \
                from exc
    lines = [[_xlsx_cell(v) for v in line] for line in sheet]
    lines = [line for line in lines if any(v is not None for v in line)]
    if not lines:
        return []
    header = [str(h).strip().lower() if h is not None else "" for h in lines[0]]
    return [{k: v for k, v in zip(header, line) if k} for line in lines[1:]]


def _xlsx_cell(value):
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip() or None
    return None if value == "" else value
