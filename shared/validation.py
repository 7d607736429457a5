"""Field types that refuse what the database would choke on, published in the OpenAPI document.

Every text field has a length limit (``maxLength``) and refuses NUL, other control characters
and unpaired surrogates (PostgreSQL cannot store them, and a 500 is never the answer to input);
numbers are finite and within the range their column holds. Request models use these instead
of bare ``str`` / ``float`` / ``int``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, Field

INT64_MAX = 2**63 - 1
# numeric values: what a float8 holds exactly enough for statistics, and no NaN/Infinity
NUMBER_LIMIT = 1e15
_ALLOWED_MULTILINE = {"\t", "\n", "\r"}


def _clean(value: str, *, multiline: bool) -> str:
    for ch in value:
        code = ord(ch)
        if (code < 0x20 or code == 0x7F) and not (multiline and ch in _ALLOWED_MULTILINE):
            raise ValueError("teks berisi karakter kendali (misalnya NUL) yang tidak diizinkan")
        if 0xD800 <= code <= 0xDFFF:
            raise ValueError("teks berisi karakter Unicode yang tidak sah")
    return value


def _line(value: str) -> str:
    return _clean(value, multiline=False)


def _multiline(value: str) -> str:
    return _clean(value, multiline=True)


def Text(max_length: int, *, min_length: int = 0, multiline: bool = False, **field) -> Any:
    """A ``str`` with ``maxLength`` and no control characters (tab/newline when multiline)."""
    return Annotated[str, Field(max_length=max_length, min_length=min_length, **field),
                     AfterValidator(_multiline if multiline else _line)]


Name = Text(200, min_length=1)
Title = Text(200, min_length=1)
Description = Text(10_000, multiline=True)
Note = Text(1000, multiline=True)
Code = Text(100)
Number = Annotated[float, Field(allow_inf_nan=False, ge=-NUMBER_LIMIT, le=NUMBER_LIMIT)]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]

MAX_JSON_DEPTH = 8
MAX_JSON_TEXT = 2000


def check_json(value: Any, depth: int = 0) -> Any:
    """Free JSON (dataset metadata, row values): bounded depth, text and numbers as above."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"struktur terlalu dalam (paling banyak {MAX_JSON_DEPTH} tingkat)")
    if isinstance(value, str):
        if len(value) > MAX_JSON_TEXT:
            raise ValueError(f"teks terlalu panjang (paling banyak {MAX_JSON_TEXT} karakter)")
        return _multiline(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > INT64_MAX:
            raise ValueError("angka di luar jangkauan")
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) > NUMBER_LIMIT:
            raise ValueError("angka tidak sah (NaN, tak hingga, atau di luar jangkauan)")
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            _line(str(key)[:MAX_JSON_TEXT + 1])
            if len(str(key)) > 200:
                raise ValueError("nama kolom terlalu panjang (paling banyak 200 karakter)")
            check_json(item, depth + 1)
        return value
    if isinstance(value, list):
        for item in value:
            check_json(item, depth + 1)
        return value
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(check_json)]
