"""SIPD e-Walidata push (Kemendagri): the walidata maps a dataset measure, summed at the
regency, to a ``kodeindikator``; once a year of it is complete (every unit valid in the year
reported) and verified (no held value, no open conflict), its value goes to SIPD through an
outbox: retried with a doubling backoff, one push per indicator, year and value (a corrected
value is pushed again, an unchanged one never twice), SIPD's answer kept. ``status`` says per
indicator and year: sent, waiting (and for what), refused (SIPD's message), failed."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal
from typing import Literal

import asyncpg
import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.registry.audit import service as audit
from services.registry.datasets import service as datasets
from services.registry.regions import service as regions
from services.registry.sipd import store
from services.registry.statistics import service as statistics
from shared import clock
from shared.auth import Principal
from shared.errors import Conflict, NotFound, Unprocessable

log = logging.getLogger("satudata.registry.sipd")


class SipdSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")
    sipd_url: str = Field("", description="SIPD e-Walidata's base URL (push_dssd is under it); "
                          "empty: nothing is pushed")
    sipd_token: str = Field("", repr=False, description="SIPD's token (a secret)")
    sipd_auth: Literal["bearer", "query"] = Field(
        "bearer", description="how the token goes: an Authorization bearer header, or the "
        "`key` query parameter (both are in use)")
    sipd_kodepemda: str = Field("", description="the regency's Kemendagri code without dots "
                                "(default: the root region's, 6408)")
    sipd_interval: float = Field(300.0, description="seconds between SIPD scans and pushes; 0 "
                                 "turns them off (POST /v1/sipd/run still works)")
    sipd_max_attempts: int = Field(8, description="attempts per push before it is marked "
                                   "failed (backoff 30 s, doubling)")
    sipd_timeout: float = Field(10.0, description="seconds per call to SIPD")


async def add_indicator(conn: asyncpg.Connection, steward: Principal, body: dict) -> dict:
    dataset = await datasets.get_dataset_row(conn, body["dataset"])
    if dataset is None:
        raise NotFound(f"Dataset '{body['dataset']}' tidak ada.", code="dataset_not_found")
    if dataset["frequency"] != "annual":
        raise Unprocessable("SIPD menerima nilai tahunan; dataset ini berfrekuensi "
                            f"{dataset['frequency']}.", code="sipd_annual_only")
    spec = next((m for m in dataset["schema"].measures if m.name == body["measure"]), None)
    if spec is None or spec.aggregation != "sum":
        raise Unprocessable(f"Ukuran '{body['measure']}' tidak ada atau tidak dapat dijumlahkan "
                            "sampai kabupaten.", code="measure_not_additive")
    if set(body["dimensions"]) - set(dataset["schema"].dimension_names):
        raise Unprocessable("Dimensi yang disebut tidak ada di dataset ini.",
                            code="unknown_field")
    made = await store.add_indicator(conn, kodeindikator=body["kodeindikator"],
                                     dataset_id=dataset["id"], measure=body["measure"],
                                     dims=body["dimensions"], note=body["note"],
                                     by=steward.publisher_id)
    if made is None:
        raise Conflict(f"Indikator {body['kodeindikator']} sudah dipetakan.",
                       code="indicator_exists")
    await audit.record(conn, steward, "sipd.indicator", body["kodeindikator"],
                       {"dataset": body["dataset"], "measure": body["measure"]})
    return next(i for i in await store.indicators(conn) if i["id"] == made)


async def indicators(conn: asyncpg.Connection) -> list[dict]:
    return await store.indicators(conn)


async def _years(conn: asyncpg.Connection, indicator: dict) -> list[dict]:
    """Each year of the indicator with its regency value and what it still waits for."""
    body = await statistics.aggregate(conn, indicator["dataset"], measures=[indicator["measure"]],
                                      region=None, dims=dict(indicator["dims"]))
    out = []
    for p in body["periods"]:
        waiting = []
        if not p["complete"]:
            waiting.append(f"{p['expected'] - p['reporting']} dari {p['expected']} wilayah "
                           "belum melapor")
        if p.get("held"):
            waiting.append(f"{p['held']} nilai menunggu verifikasi walidata")
        if not waiting:
            open_conflicts = (await statistics.completeness(
                conn, indicator["dataset"], period=p["period"], region=None))["in_conflict"]
            if open_conflicts:
                waiting.append(f"{open_conflicts} konflik belum diputuskan")
        if isinstance(p["value"], dict) or p["value"] is None:
            waiting.append("nilai kabupaten tidak tersedia untuk publik")
        out.append({"tahun": p["period"], "value": p["value"], "waiting": waiting})
    return out


async def scan(conn: asyncpg.Connection) -> int:
    """Queue every ready year whose value SIPD does not have yet; returns how many."""
    queued = 0
    for indicator in await store.indicators(conn):
        for year in await _years(conn, indicator):
            if not year["waiting"]:
                queued += await store.queue_push(conn, indicator["id"], year["tahun"],
                                                 Decimal(str(year["value"])))
    return queued


async def status(conn: asyncpg.Connection) -> dict:
    pushes = await store.latest_pushes(conn)
    items = []
    for indicator in await store.indicators(conn):
        for year in await _years(conn, indicator):
            push = pushes.get((indicator["id"], year["tahun"]))
            value = None if year["waiting"] else Decimal(str(year["value"]))
            state = ("menunggu" if year["waiting"] else
                     "antre" if push is None or push["value"] != value else
                     {"sent": "terkirim", "pending": "mengirim", "refused": "ditolak",
                      "failed": "gagal", "superseded": "antre"}[push["status"]])
            items.append({"kodeindikator": indicator["kodeindikator"],
                          "dataset": indicator["dataset"], "measure": indicator["measure"],
                          "tahun": year["tahun"], "value": year["value"], "state": state,
                          "waiting_for": year["waiting"],
                          "pushed_value": push["value"] if push else None,
                          "attempts": push["attempts"] if push else 0,
                          "response": push["response"] if push else None,
                          "sent_at": push["sent_at"] if push else None})
    return {"items": items}


async def _kodepemda(conn: asyncpg.Connection, settings: SipdSettings) -> str:
    return settings.sipd_kodepemda or re.sub(r"\D", "", await regions.root_region(conn) or "")


def _refusal(response: httpx.Response) -> str | None:
    """SIPD's message when it refused the value (no retry), else None."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("status") is False or body.get("success") is False
                                   or body.get("error")):
        return str(body.get("message") or body.get("error") or body)[:1000]
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        return (response.text or f"HTTP {response.status_code}")[:1000]
    return None


async def deliver(pool: asyncpg.Pool, settings: SipdSettings, limit: int = 50) -> int:
    """Send due pushes; returns how many SIPD accepted."""
    if not settings.sipd_url:
        return 0
    accepted = 0
    async with pool.acquire() as conn, conn.transaction():
        kodepemda = await _kodepemda(conn, settings)
        for push in await store.claim(conn, clock.now(), limit):
            body = {"data": [{"kodeindikator": push["kodeindikator"], "kodepemda": kodepemda,
                              "tahun": push["tahun"], "data": _number(push["value"])}]}
            headers, params = {"Accept": "application/json"}, {}
            if settings.sipd_auth == "bearer":
                headers["Authorization"] = f"Bearer {settings.sipd_token}"
            else:
                params["key"] = settings.sipd_token
            try:
                async with httpx.AsyncClient(timeout=settings.sipd_timeout) as client:
                    response = await client.post(settings.sipd_url.rstrip("/") + "/push_dssd",
                                                 json=body, headers=headers, params=params)
                refused = _refusal(response)
                if refused is None and response.status_code >= 500:
                    response.raise_for_status()
            except (httpx.HTTPError, OSError) as exc:
                attempts = push["attempts"] + 1
                final = attempts >= settings.sipd_max_attempts
                log.warning("SIPD push %s failed (%d): %s", push["kodeindikator"], attempts,
                            type(exc).__name__)
                await store.mark(conn, push["id"], status="failed" if final else "pending",
                                 response=str(exc)[:500] or type(exc).__name__, sent_at=None,
                                 next_attempt_at=clock.now() + timedelta(
                                     seconds=30 * 2 ** (attempts - 1)))
                continue
            await store.mark(conn, push["id"], status="refused" if refused else "sent",
                             response=refused or response.text[:1000], next_attempt_at=None,
                             sent_at=None if refused else clock.now())
            accepted += refused is None
    return accepted


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral() else float(value)


async def run_once(pool: asyncpg.Pool, settings: SipdSettings) -> int:
    """One round of the background loop: queue what is ready, then send what is due."""
    async with pool.acquire() as conn, conn.transaction():
        await scan(conn)
    return await deliver(pool, settings)


STATES = ("pending", "sent", "refused", "failed", "superseded")


def register_metrics(metrics) -> None:
    """``satudata_connector_pushes{connector="sipd",state}`` on /metrics, read at each scrape:
    how many pushes are waiting, sent, refused by SIPD, failed after the retry budget."""
    gauge = metrics.gauge("satudata_connector_pushes", "Pushes to an upstream system by state",
                          ("connector", "state"))

    async def collect(runtime) -> None:
        async with runtime.pool.acquire() as conn:
            counts = await store.pushes_by_status(conn)
        for state in STATES:
            gauge.labels("sipd", state).set(counts.get(state, 0))
    metrics.gauge_source(collect)
