"""Pydantic's validation errors and HTTP reasons in Bahasa Indonesia.

Pydantic speaks English ("Field required", "Input should be 'json' or 'csv'"); villages read
``details``. Each error ``type`` (stable across pydantic 2 releases, unlike its messages) maps
to an Indonesian template filled from the error's ``ctx``; the English ``type`` stays as the
detail's ``code``. A type without a template gets a generic Indonesian sentence, never English.
"""

from __future__ import annotations

from typing import Any, Iterable

MESSAGES: dict[str, str] = {
    "missing": "Wajib diisi.",
    "extra_forbidden": "Kolom ini tidak dikenal.",
    "json_invalid": "JSON tidak valid: {error}.",
    "json_type": "Harus berupa JSON.",
    "enum": "Harus salah satu dari: {expected}.",
    "literal_error": "Harus salah satu dari: {expected}.",
    "string_type": "Harus berupa teks.",
    "string_too_short": "Paling sedikit {min_length} karakter.",
    "string_too_long": "Paling banyak {max_length} karakter.",
    "string_pattern_mismatch": "Bentuknya tidak sesuai pola {pattern}.",
    "int_type": "Harus bilangan bulat.",
    "int_parsing": "Harus bilangan bulat.",
    "int_from_float": "Harus bilangan bulat, tanpa pecahan.",
    "float_type": "Harus berupa angka.",
    "float_parsing": "Harus berupa angka.",
    "decimal_parsing": "Harus berupa angka.",
    "decimal_type": "Harus berupa angka.",
    "finite_number": "Harus angka yang terhingga.",
    "bool_type": "Harus true atau false.",
    "bool_parsing": "Harus true atau false.",
    "greater_than": "Harus lebih besar dari {gt}.",
    "greater_than_equal": "Paling kecil {ge}.",
    "less_than": "Harus lebih kecil dari {lt}.",
    "less_than_equal": "Paling besar {le}.",
    "multiple_of": "Harus kelipatan {multiple_of}.",
    "too_short": "Paling sedikit {min_length} isian.",
    "too_long": "Paling banyak {max_length} isian.",
    "list_type": "Harus berupa daftar (list).",
    "dict_type": "Harus berupa objek.",
    "model_type": "Harus berupa objek.",
    "model_attributes_type": "Harus berupa objek.",
    "uuid_type": "Harus UUID.",
    "uuid_parsing": "Harus UUID yang valid.",
    "date_type": "Harus tanggal (YYYY-MM-DD).",
    "date_parsing": "Harus tanggal (YYYY-MM-DD).",
    "date_from_datetime_parsing": "Harus tanggal (YYYY-MM-DD).",
    "datetime_type": "Harus tanggal dan waktu (ISO 8601).",
    "datetime_parsing": "Harus tanggal dan waktu (ISO 8601).",
    "datetime_from_date_parsing": "Harus tanggal dan waktu (ISO 8601).",
    "timezone_aware": "Tanggal dan waktu harus menyebut zona waktu.",
    "url_type": "Harus URL.",
    "url_parsing": "Harus URL yang valid.",
    "url_scheme": "Skema URL harus {expected_schemes}.",
    "none_required": "Harus kosong.",
    "is_instance_of": "Jenis nilainya tidak sesuai.",
    "union_tag_invalid": "Jenis '{tag}' tidak dikenal; pakai {expected_tags}.",
    "union_tag_not_found": "Kolom '{discriminator}' wajib diisi.",
    "dataclass_type": "Harus berupa objek.",
    "frozen_field": "Kolom ini tidak boleh diubah.",
    "bytes_type": "Harus berupa data biner.",
    "value_error": "{error}.",
    "assertion_error": "{error}.",
}
GENERIC = "Nilai tidak valid."

HTTP_REASONS: dict[int, str] = {
    400: "Permintaan tidak valid.",
    401: "Kunci API diperlukan.",
    403: "Akses ditolak.",
    404: "Alamat ini tidak ada.",
    405: "Metode {method} tidak diizinkan di alamat ini.",
    406: "Format jawaban yang diminta tidak tersedia.",
    409: "Terjadi konflik dengan data yang ada.",
    413: "Isi permintaan terlalu besar.",
    415: "Jenis isi permintaan tidak didukung.",
    422: "Permintaan tidak valid; periksa kolom yang disebut.",
    429: "Terlalu banyak permintaan; coba lagi sebentar lagi.",
}


def _or(value: Any) -> str:
    return str(value).replace(" or ", " atau ")


def validation_message(error: dict[str, Any]) -> str:
    template = MESSAGES.get(error.get("type", ""))
    if template is None:
        return GENERIC
    ctx = {k: _or(v) for k, v in (error.get("ctx") or {}).items()}
    if "error" in ctx:  # our own validators raise ValueError with an Indonesian message
        ctx["error"] = ctx["error"].removeprefix("Value error, ").removeprefix(
            "Assertion failed, ").rstrip(".")
    try:
        return template.format(**ctx).replace("..", ".")
    except (KeyError, IndexError):
        return GENERIC


def validation_details(errors: Iterable[dict[str, Any]], *, drop: tuple = ("body",),
                       limit: int | None = None) -> list[dict[str, Any]]:
    """Pydantic's ``errors()`` as the error shape's ``details``: field, code, Indonesian message."""
    out = []
    for e in errors:
        out.append({"field": ".".join(str(p) for p in e.get("loc", ()) if p not in drop),
                    "code": e.get("type", "invalid"), "message": validation_message(e)})
        if limit is not None and len(out) >= limit:
            break
    return out


def http_reason(status: int, method: str = "") -> str | None:
    reason = HTTP_REASONS.get(status)
    return reason.format(method=method) if reason else None
