"""Timeliness with the clock set after a due date: who is late, reminders sent once to a
signed webhook and by e-mail, and up-to-dateness on dataset answers."""

from __future__ import annotations

import email
import email.policy
import json

import httpx
import nats
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from standardwebhooks.webhooks import Webhook

from services.registry.publishing import apply
from services.registry.app import create_app
from services.registry.bootstrap.seed import seed_sample_values
from shared.infra import free_port
from tests.helpers import eventually, served, signed
from tests.integration.registry.conftest import principal_headers

SLUG = "jumlah-penduduk"
DESA = "64.08.04.2001"  # its own desa publisher (seed)
OTHER = "64.08.04.2011"  # Singa Gembara: the OPD reports it
SECRET = "whsec_" + "dGltZWxpbmVzcy10ZXN0LXNlY3JldC0xMjM0NTY="
STEWARD = principal_headers()
DESA_KEY = principal_headers(f"desa-{DESA}", "publisher", DESA, [SLUG])
# period 2026 (annual, 90 days' grace) is due 2027-03-31 23:59 WITA: the clock stands after it
AFTER_DUE = "2027-04-15T10:00"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
async def receiver():
    """A webhook receiver that verifies nothing itself: it keeps what arrived."""
    got: list[dict] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request):
        got.append({"headers": dict(request.headers), "body": (await request.body()).decode()})
        return {"ok": True}

    async with served(app) as url:
        yield url + "/hook", got


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port("127.0.0.1")
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
async def late_registry(monkeypatch, registry_db, registry_settings, receiver, smtp):
    monkeypatch.setenv("SATUDATA_TESTING", "1")
    monkeypatch.setenv("SATUDATA_NOW", AFTER_DUE)
    monkeypatch.setenv("REGISTRY_REMINDER_INTERVAL", "0")  # scans only when asked, below
    monkeypatch.setenv("REGISTRY_DELIVERY_INTERVAL", "0.2")
    monkeypatch.setenv("REGISTRY_REMINDER_WEBHOOK_URL", receiver[0])
    monkeypatch.setenv("REGISTRY_REMINDER_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("REGISTRY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REGISTRY_SMTP_PORT", str(smtp[0]))
    pool, _ = registry_db
    async with served(create_app(registry_settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=20, auth=signed()) as client:
            yield client, pool


async def _submit(pool, region: str, period: str = "2026") -> None:
    rows = [{"region": region, "period": period, "jenis_kelamin": s, "jumlah": 100}
            for s in ("L", "P")]
    async with pool.acquire() as conn, conn.transaction():
        outcome = await apply.apply_rows(conn, dataset_slug=SLUG,
                                                    publisher_id="disdukcapil", rows=rows)
    assert outcome.counts.created + outcome.counts.updated == 2, outcome.rejected


async def test_villages_without_a_submission_are_late_after_the_due_date(late_registry):
    client, pool = late_registry
    await _submit(pool, OTHER)
    r = await client.get("/v1/timeliness", params={"dataset": SLUG, "period": "2026"})
    assert r.status_code == 200, r.text
    item = r.json()["items"][0]
    assert item["is_due"] and item["due_at"].startswith("2027-03-31T15:59")
    assert (item["on_time"], item["missing"], item["expected"]) == (1, 140, 141)
    regions = {u["code"]: u for u in item["regions"]}
    assert regions[OTHER]["status"] == "on_time"
    assert regions[DESA]["status"] == "missing" and regions[DESA]["days_late"] == 15
    assert regions[DESA]["publisher_id"] == f"desa-{DESA}"
    kec = next(k for k in item["kecamatan"] if k["code"] == "64.08.04")
    assert kec["missing"] == kec["expected"] - 1 and kec["max_days_late"] == 15
    # by kecamatan, by publisher, and the publisher's own overdue list with its key
    r = await client.get("/v1/timeliness", params={"dataset": SLUG, "kecamatan": "64.08.04"})
    assert {u["kecamatan"] for i in r.json()["items"] for u in i["regions"]} == {"64.08.04"}
    r = await client.get("/v1/timeliness", params={"publisher": f"desa-{DESA}"})
    assert [u["code"] for i in r.json()["items"] for u in i["regions"]] == [DESA, DESA]
    mine = (await client.get("/v1/timeliness/mine", headers=DESA_KEY)).json()
    assert [(i["period"], [u["code"] for u in i["regions"]]) for i in mine["items"]] == [
        ("2026", [DESA])]


async def test_bad_filters_answer_in_the_error_shape(late_registry):
    client, _ = late_registry
    for params, status in [({"period": "2026"}, 422),
                           ({"dataset": SLUG, "period": "2026-13"}, 422),
                           ({"kecamatan": "99.99"}, 404), ({"publisher": "nope"}, 404),
                           ({"dataset": "nope"}, 404)]:
        r = await client.get("/v1/timeliness", params=params)
        assert r.status_code == status, (params, r.text)
        assert r.json()["error"]["code"]
    assert (await client.get("/v1/timeliness/mine")).status_code == 401


async def test_grace_period_is_set_by_the_walidata(late_registry):
    client, _ = late_registry
    got = (await client.get(f"/v1/datasets/{SLUG}/schedule")).json()
    assert (got["grace_days"], got["custom"], got["latest_due"]["period"]) == (90, False, "2026")
    r = await client.put(f"/v1/datasets/{SLUG}/schedule", json={"grace_days": 20},
                         headers=DESA_KEY)
    assert r.status_code == 403
    r = await client.put(f"/v1/datasets/{SLUG}/schedule", json={"grace_days": 120},
                         headers=STEWARD)
    assert r.status_code == 200 and r.json()["custom"]
    # 120 days after 2026 ends is 2027-04-30: at the test clock 2026 is not due yet
    assert r.json()["latest_due"]["period"] == "2025"
    item = (await client.get("/v1/timeliness", params={"dataset": SLUG, "period": "2026"})
            ).json()["items"][0]
    assert item["not_yet_due"] == 141 and not item["is_due"]
    r = await client.put(f"/v1/datasets/{SLUG}/schedule", json={"grace_days": -1},
                         headers=STEWARD)
    assert r.status_code == 422


async def test_reminder_is_emitted_once_per_publisher_and_delivered_signed(
        late_registry, receiver, smtp, registry_settings, nats_url):
    client, pool = late_registry
    _, got = receiver
    await _submit(pool, OTHER)
    r = await client.put(f"/v1/publishers/desa-{DESA}/contact",
                         json={"email": "desa@example.org"}, headers=STEWARD)
    assert r.status_code == 200, r.text
    nc = await nats.connect(nats_url)
    events: list[dict] = []
    subject = f"{registry_settings.nats_namespace}.registry.reminders.due.v1"

    async def on_event(msg):
        events.append(json.loads(msg.data))
    sub = await nc.subscribe(subject, cb=on_event)
    try:
        first = await client.post("/v1/reminders/run", headers=STEWARD)
        again = await client.post("/v1/reminders/run", headers=STEWARD)
        assert (first.json()["created"], again.json()["created"]) == (2, 0)
        await eventually(lambda: _delivered(client, 3), timeout=20)
        # every event the registry wrote is published; the server hands this connection
        # what it routed before answering the flush: a duplicate would be here by now
        await eventually(lambda: _eq_async(pool.fetchval(
            "SELECT count(*) FROM registry.outbox WHERE sent_at IS NULL"), 0), timeout=20)
        await nc.flush()

        async def handed_over():  # each message received is in ``events`` (its callback ran)
            return sub.pending_msgs == 0
        await eventually(handed_over, timeout=5)
    finally:
        await nc.close()
    assert sorted(e["data"]["publisher_id"] for e in events) == ["desa-" + DESA, "disdukcapil"]
    assert len(got) == 2
    for hook in got:
        Webhook(SECRET).verify(hook["body"], hook["headers"])  # raises when invalid
        assert hook["headers"]["webhook-signature"].startswith("v1,")
    desa = next(json.loads(h["body"])["data"] for h in got
                if json.loads(h["body"])["data"]["publisher_id"] == f"desa-{DESA}")
    assert (desa["stage"], desa["period"], desa["regions"]) == (
        "overdue", "2026", [{"code": DESA, "name": desa["regions"][0]["name"]}])
    assert "/template" in desa["template_url"] and "/kirim" in desa["submit_url"]
    mail = smtp[1].messages
    assert [m.rcpt_tos for m in mail] == [["desa@example.org"]]
    text = email.message_from_bytes(mail[0].content, policy=email.policy.default
                                    ).get_content()
    assert "periode 2026" in text and f"/v1/datasets/{SLUG}/template" in text
    own = (await client.get("/v1/reminders", headers=DESA_KEY)).json()
    assert [i["publisher_id"] for i in own["items"]] == [f"desa-{DESA}"]
    assert own["next_cursor"] is None
    # the log pages with the one cursor codec: one per page, newest first, then the end
    first = (await client.get("/v1/reminders", params={"limit": 1}, headers=STEWARD)).json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = (await client.get("/v1/reminders", params={"limit": 1, "cursor": first[
        "next_cursor"]}, headers=STEWARD)).json()
    assert second["next_cursor"] is None
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {e["data"]["reminder_id"]
                                                                  for e in events}
    r = await client.get("/v1/reminders", params={"cursor": "nonsense"}, headers=STEWARD)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_cursor")


async def _delivered(client, expected: int) -> bool:
    items = (await client.get("/v1/reminders", headers=STEWARD)).json()["items"]
    done = [d for i in items for d in i["deliveries"] if d["status"] == "sent"]
    return len(done) == expected


async def test_dataset_answers_say_when_updated_and_how_late(late_registry, monkeypatch):
    client, pool = late_registry
    d = (await client.get(f"/v1/datasets/{SLUG}")).json()
    assert d["currency"]["label"] == "belum ada data"
    async with pool.acquire() as conn, conn.transaction():
        await seed_sample_values(conn, "2025")
    d = (await client.get(f"/v1/datasets/{SLUG}")).json()
    assert d["currency"]["status"] == "terlambat" and d["last_updated"]
    assert d["currency"]["label"] == "terlambat 15 hari: 141 desa belum melapor"
    monkeypatch.setenv("SATUDATA_NOW", "2027-07-01T10:00")
    listed = (await client.get("/v1/datasets")).json()["items"]
    assert listed[0]["currency"]["label"] == "terlambat 3 bulan: 141 desa belum melapor"
    # one village's 2026 is not the dataset's 2026: still late, and the label says for whom
    await _submit(pool, OTHER, "2026")
    got = (await client.get(f"/v1/datasets/{SLUG}/currency")).json()
    assert got["currency"] == {**got["currency"], "status": "terlambat", "current": False,
                               "label": "terlambat 3 bulan: 140 desa belum melapor",
                               "reported": 1, "expected_units": 141}
    async with pool.acquire() as conn, conn.transaction():
        await seed_sample_values(conn, "2026")
    got = (await client.get(f"/v1/datasets/{SLUG}/currency")).json()
    assert got["currency"] == {**got["currency"], "status": "mutakhir", "current": True,
                               "label": "mutakhir: 141 dari 141 desa"}


async def _eq_async(value, want) -> bool:
    return await value == want
