"""Reading a request body with limits: size as sent, size after gzip, files spooled to disk.

Used by api.py. The body is read through a wrapped ASGI ``receive`` that counts bytes (413
``payload_too_large``) and inflates ``Content-Encoding: gzip`` with a bound (413
``decompressed_too_large``), so neither a huge upload nor a gzip bomb reaches memory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import zlib
from pathlib import Path

from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from services.ingest.models import SubmissionCreate
from services.ingest.service import Upload
from services.ingest.settings import IngestSettings
from shared.errors import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from shared.i18n import validation_details

XLSX_TYPES = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CSV_TYPES = {"text/csv", "application/csv", "text/comma-separated-values"}
JSON_TYPES = {"application/json"}


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB"


class LimitedReceive:
    def __init__(self, receive, encoding: str, max_body: int, max_inflated: int):
        self.receive = receive
        self.max_body = max_body
        self.max_inflated = max_inflated
        self.raw = 0
        self.inflated = 0
        self.inflate = zlib.decompressobj(wbits=47) if encoding == "gzip" else None

    async def __call__(self):
        message = await self.receive()
        if message["type"] != "http.request":
            return message
        body = message.get("body", b"")
        self.raw += len(body)
        if self.raw > self.max_body:
            raise PayloadTooLarge(f"Kiriman terlalu besar: paling besar {_mb(self.max_body)}.",
                                  details=[{"max_bytes": self.max_body}])
        if self.inflate is not None:
            room = self.max_inflated - self.inflated
            try:
                body = self.inflate.decompress(body, room + 1)
                if not message.get("more_body", False):
                    body += self.inflate.flush()
            except zlib.error as exc:
                raise Unprocessable("Isi gzip rusak.", code="malformed_gzip",
                                    details=[{"message": str(exc)}]) from exc
            self.inflated += len(body)
            if self.inflated > self.max_inflated:
                raise PayloadTooLarge(
                    f"Isi kiriman setelah gzip dibuka melebihi {_mb(self.max_inflated)}.",
                    code="decompressed_too_large", details=[{"max_bytes": self.max_inflated}])
            message = {**message, "body": body}
        return message


def limited_request(request: Request, settings: IngestSettings, *, in_memory: bool = False
                    ) -> Request:
    """The request, read through the limits; ``in_memory`` bodies (JSON, parsed whole) are
    held to ``max_json_bytes`` both as sent and after gzip."""
    max_body, max_inflated = settings.max_body_bytes, settings.max_decompressed_bytes
    if in_memory:
        max_body = min(max_body, settings.max_json_bytes)
        max_inflated = min(max_inflated, settings.max_json_bytes)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise UnsupportedMediaType(
            f"Content-Encoding '{encoding}' tidak didukung; gunakan gzip atau tanpa kompresi.",
            code="unsupported_content_encoding")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_body:
        raise PayloadTooLarge(f"Kiriman terlalu besar: paling besar {_mb(max_body)}.",
                              details=[{"max_bytes": max_body}])
    return Request(request.scope,
                   receive=LimitedReceive(request.receive, encoding, max_body, max_inflated))


def _temp_path(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="satudata-ingest-", suffix=suffix)
    os.close(fd)
    return Path(name)


async def _stream_to_file(request: Request, suffix: str) -> Path:
    path = _temp_path(suffix)
    try:
        with open(path, "wb") as fh:
            async for piece in request.stream():
                if piece:
                    await asyncio.to_thread(fh.write, piece)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _kind_of_file(upload: UploadFile) -> str:
    name = (upload.filename or "").lower()
    ctype = (upload.content_type or "").split(";")[0].strip().lower()
    if name.endswith(".xlsx") or ctype in XLSX_TYPES:
        return "xlsx"
    if name.endswith(".csv") or ctype in CSV_TYPES:
        return "csv"
    if name.endswith(".xls"):
        raise UnsupportedMediaType("Format .xls lama tidak didukung; simpan sebagai .xlsx atau "
                                   ".csv.", code="unsupported_file_type")
    raise UnsupportedMediaType(
        f"Berkas '{upload.filename}' bukan CSV atau XLSX.", code="unsupported_file_type")


async def _copy_upload(upload: UploadFile, suffix: str) -> Path:
    path = _temp_path(suffix)

    def copy() -> None:
        upload.file.seek(0)
        with open(path, "wb") as fh:
            shutil.copyfileobj(upload.file, fh, 1 << 20)

    try:
        await asyncio.to_thread(copy)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _locale(value, param: str | None) -> str:
    """The submission's locale: the body's or form's ``locale`` field, else ?locale=, else id."""
    value = value or param or "id"
    if value not in ("id", "en"):
        raise Unprocessable(f"Locale '{value}' tidak dikenal: pilih id (2.000,5) atau en "
                            "(2,000.5).", code="locale_unknown", details=[{"field": "locale"}])
    return value


async def read_upload(request: Request, settings: IngestSettings, dataset_param: str | None,
                      locale_param: str | None = None) -> tuple[str, Upload]:
    """(dataset slug, upload) from a JSON body, a multipart form or a raw CSV/XLSX body.

    The caller deletes ``upload.path`` when done."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype in JSON_TYPES or ctype.endswith("+json"):
        limited = limited_request(request, settings, in_memory=True)
        body = await limited.body()
        try:
            parsed = await asyncio.to_thread(SubmissionCreate.model_validate_json, body)
        except ValidationError as exc:
            raise Unprocessable(
                "Isi JSON tidak valid: harus {\"dataset\": ..., \"rows\": [...]}.",
                code="malformed_json",
                details=validation_details(exc.errors(), drop=(), limit=20)) from exc
        return _dataset(parsed.dataset or dataset_param), Upload(
            kind="json", rows=parsed.rows, locale=_locale(parsed.locale, locale_param))
    limited = limited_request(request, settings)
    if ctype == "multipart/form-data":
        form = await limited.form(max_files=1, max_fields=20)
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise Unprocessable("Formulir harus berisi berkas pada kolom 'file'.",
                                    code="file_required", details=[{"field": "file"}])
            dataset = _dataset(form.get("dataset") or dataset_param)
            locale = _locale(form.get("locale"), locale_param)
            kind = _kind_of_file(upload)
            path = await _copy_upload(upload, "." + kind)
        finally:
            await form.close()
        return dataset, Upload(kind=kind, path=path, filename=upload.filename, locale=locale)
    if ctype in CSV_TYPES or ctype in XLSX_TYPES:
        dataset = _dataset(dataset_param)
        locale = _locale(None, locale_param)
        kind = "csv" if ctype in CSV_TYPES else "xlsx"
        return dataset, Upload(kind=kind, path=await _stream_to_file(limited, "." + kind),
                               locale=locale)
    raise UnsupportedMediaType(
        f"Content-Type '{ctype or '(kosong)'}' tidak didukung: kirim application/json, "
        "multipart/form-data (file + dataset), text/csv, atau XLSX.")


def _dataset(value) -> str:
    slug = value.strip() if isinstance(value, str) else ""
    if not slug:  # blank ("\t") counts as missing: never an empty slug sent to the registry
        raise BadRequest("Sebutkan dataset: kolom 'dataset' atau ?dataset=<slug>.",
                         code="dataset_required", details=[{"field": "dataset"}])
    return slug
