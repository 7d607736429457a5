"""Reminder delivery: a signed webhook (Standard Webhooks) and SMTP e-mail.

Pending deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` (replicas share the work), sent,
and marked ``sent``, or retried with a doubling backoff and marked ``failed`` after
``delivery_max_attempts``. A webhook keeps its ``webhook-id`` (the delivery id) across retries, so
a receiver drops a duplicate. The signature's timestamp is the real time, not the test clock:
receivers compare it with their own clock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook

from services.registry.timeliness import store
from services.registry.timeliness.settings import TimelinessSettings
from shared import clock

log = logging.getLogger("satudata.registry.reminders")


def webhook_headers(secret: str, msg_id: str, body: str, at: datetime | None = None) -> dict:
    """The three Standard Webhooks headers for ``body``."""
    at = at or datetime.now(timezone.utc)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
               "content-type": "application/json"}
    if secret:
        headers["webhook-signature"] = Webhook(secret).sign(msg_id, at, body)
    return headers


async def send_webhook(settings: TimelinessSettings, delivery: dict) -> None:
    body = json.dumps({"type": "reminder.due", "data": delivery["payload"]},
                      separators=(",", ":"), ensure_ascii=False)
    headers = webhook_headers(settings.reminder_webhook_secret, str(delivery["id"]), body)
    async with httpx.AsyncClient(timeout=settings.delivery_timeout) as client:
        response = await client.post(delivery["target"], content=body.encode(), headers=headers)
    response.raise_for_status()


def email_message(settings: TimelinessSettings, to: str, payload: dict) -> EmailMessage:
    when = datetime.fromisoformat(payload["due_at"]).astimezone(clock.WITA)
    regions = "\n".join(f"  - {r['name']} ({r['code']})" for r in payload["regions"])
    lead = ("sudah lewat batas waktu" if payload["stage"] == "overdue"
            else f"jatuh tempo dalam {payload['days']} hari")
    msg = EmailMessage()
    msg["From"], msg["To"] = settings.smtp_from, to
    msg["Subject"] = (f"[Satu Data] {payload['dataset_title']} periode {payload['period']}: "
                      f"{lead}")
    msg.set_content(
        f"Yth. {payload['publisher_name']},\n\n"
        f"Data {payload['dataset_title']} periode {payload['period']} {lead} "
        f"(batas {when:%d-%m-%Y %H:%M} WITA). Wilayah yang belum mengirim:\n{regions}\n\n"
        f"Templat untuk diisi: {payload['template_url']}\n"
        f"Kirim data: {payload['submit_url']}\n\nTerima kasih,\nWalidata Satu Data\n")
    return msg


def _send_email_sync(settings: TimelinessSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port,
                      timeout=settings.delivery_timeout) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


async def send_email(settings: TimelinessSettings, delivery: dict) -> None:
    message = email_message(settings, delivery["target"], delivery["payload"])
    await asyncio.to_thread(_send_email_sync, settings, message)


SENDERS = {"webhook": send_webhook, "email": send_email}


async def deliver_pending(pool: asyncpg.Pool, settings: TimelinessSettings,
                          limit: int = 20) -> int:
    """Send up to ``limit`` due deliveries; returns how many were sent."""
    sent = 0
    async with pool.acquire() as conn, conn.transaction():
        for d in await store.claim_deliveries(conn, clock.now(), limit):
            try:
                await SENDERS[d["channel"]](settings, d)
            except Exception as exc:  # noqa: BLE001 - any failure is retried, then logged
                attempts = d["attempts"] + 1
                final = attempts >= settings.delivery_max_attempts
                log.warning("reminder %s via %s failed (%d): %s", d["reminder_id"],
                            d["channel"], attempts, exc)
                await store.mark_delivery(
                    conn, d["id"], status="failed" if final else "pending",
                    error=str(exc)[:500] or type(exc).__name__, sent_at=None,
                    next_attempt_at=clock.now() + timedelta(seconds=30 * 2 ** (attempts - 1)))
                continue
            await store.mark_delivery(conn, d["id"], status="sent", error=None,
                                      next_attempt_at=None, sent_at=clock.now())
            sent += 1
    return sent
