"""Validation details, enum and method errors reach villages in Bahasa Indonesia."""

from __future__ import annotations

from enum import Enum

from fastapi import FastAPI
import httpx
from pydantic import BaseModel, ConfigDict, field_validator

from shared.errors import install_error_handlers
from shared.i18n import MESSAGES, validation_message

ENGLISH = ("Field required", "Input should", "Method Not Allowed", "Not Found", "Extra inputs")


class Format(str, Enum):
    json = "json"
    csv = "csv"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int
    period: str

    @field_validator("period")
    @classmethod
    def _period(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("Periode harus tahun, contoh 2024")
        return value


def _client() -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def create(body: Body, format: Format = Format.json):
        return {}

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_body_errors_come_back_in_indonesian_with_english_codes():
    async with _client() as client:
        response = await client.post("/things?format=xml",
                                     json={"count": "banyak", "period": "tahun lalu",
                                           "extra": 1})
    assert response.status_code == 422
    details = {d["field"]: d for d in response.json()["error"]["details"]}
    assert details["name"] == {"field": "name", "code": "missing", "message": "Wajib diisi."}
    assert details["count"]["message"] == "Harus bilangan bulat."
    assert details["query.format"]["code"] == "enum"
    assert details["query.format"]["message"] == "Harus salah satu dari: 'json' atau 'csv'."
    assert details["extra"]["message"] == "Kolom ini tidak dikenal."
    assert details["period"]["message"] == "Periode harus tahun, contoh 2024."
    assert not any(word in response.text for word in ENGLISH)


async def test_method_not_allowed_and_unknown_route_are_indonesian():
    async with _client() as client:
        wrong = await client.delete("/things")
        missing = await client.get("/tidak-ada")
    assert wrong.status_code == 405
    assert wrong.json()["error"] == {"code": "method_not_allowed",
                                     "message": "Metode DELETE tidak diizinkan di alamat ini.",
                                     "details": []}
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Alamat ini tidak ada."


def test_every_template_fills_and_unknown_types_stay_indonesian():
    assert validation_message({"type": "string_too_long", "ctx": {"max_length": 200}}) \
        == "Paling banyak 200 karakter."
    assert validation_message({"type": "greater_than_equal", "ctx": {"ge": 1}}) == "Paling kecil 1."
    assert validation_message({"type": "string_too_long"}) == "Nilai tidak valid."  # no ctx
    assert validation_message({"type": "something_new_in_pydantic"}) == "Nilai tidak valid."
    assert all(not any(w in m for w in ("Input", "should", "required")) for m in MESSAGES.values())
