"""Every privileged action audited, by one mechanism: every write route a steward may call
takes its transaction from ``AuditedConn`` (listed from the registry's own route table, so a new
route cannot forget it), and calls to routes that had no entry of their own before (policy,
rules, schedules, verification decisions, reminders, contacts) leave one, with who and from
where, while a failed call leaves none."""

from __future__ import annotations

import uuid

from fastapi.routing import APIRoute

from services.registry.app import create_app
from services.registry.audit.web import audited_conn
from services.registry.publishing import apply
from services.registry.settings import RegistrySettings
from shared.web import dry_run_conn, read_conn, steward
from tests.integration.registry.conftest import principal_headers

STEWARD = principal_headers()
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def _routes(routes) -> list[APIRoute]:
    """Every API route, those of included routers too (FastAPI keeps them behind a wrapper)."""
    out = []
    for route in routes:
        if hasattr(route, "original_router"):
            out += _routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            out.append(route)
    return out


def _calls(route: APIRoute) -> set:
    found, todo = set(), [route.dependant]
    while todo:
        d = todo.pop()
        found.add(d.call)
        todo.extend(d.dependencies)
    return found


def test_every_write_route_a_steward_may_call_takes_the_audited_transaction():
    app = create_app(RegistrySettings(database_url="postgresql://x@127.0.0.1:1/x",
                                      nats_url="nats://127.0.0.1:1"))
    writes = [r for r in _routes(app.routes) if r.methods & WRITES
              and "/internal/" not in r.path]
    steward_only = [r for r in writes if steward in _calls(r)]
    assert len(steward_only) >= 20  # the list is real: datasets, keys, rules, schedules...
    # (a POST that only reads, such as evaluating rules, takes a read-only connection)
    missing = [f"{sorted(r.methods)[0]} {r.path}" for r in writes
               if steward in _calls(r) and audited_conn not in _calls(r)
               and not _calls(r) & {read_conn, dry_run_conn}]
    assert missing == []


async def _entries(client) -> list[dict]:
    return (await client.get("/v1/audit", headers=STEWARD, params={"limit": 200})).json()[
        "items"]


async def test_policy_rules_schedule_and_verification_decisions_leave_audit_entries(
        client, registry):
    before = len(await _entries(client))
    slug = "jumlah-penduduk"
    calls = [
        ("put", f"/v1/datasets/{slug}/verification-policy", {"policy": "verifikasi"}),
        ("post", f"/v1/datasets/{slug}/rules", {
            "expression": "jumlah >= 0", "importance": "tinggi",
            "message": "Jumlah penduduk tidak boleh negatif."}),
        ("put", f"/v1/datasets/{slug}/schedule", {"grace_days": 30}),
        ("put", "/v1/publishers/disdukcapil/contact", {"email": "contoh@kutaitimurkab.go.id"}),
    ]
    for method, path, body in calls:
        r = await getattr(client, method)(path, headers=STEWARD, json=body)
        assert r.status_code in (200, 201), (path, r.text)
    async with registry["pool"].acquire() as conn, conn.transaction():
        held = await apply.apply_rows(conn, dataset_slug=slug, publisher_id="disdukcapil",
                                      rows=[{"region": "64.08.04.2001", "period": "2014",
                                             "jenis_kelamin": "L", "jumlah": 9}],
                                      submission_id=uuid.uuid4())
    assert held.counts.held == 1
    r = await client.post("/v1/verification/verify", headers=STEWARD,
                          json={"dataset": slug, "note": "cek"})
    assert r.status_code == 200, r.text
    refused = await client.put(f"/v1/datasets/{slug}/schedule", headers=STEWARD,
                               json={"grace_days": -5})  # fails: no entry
    assert refused.status_code == 422
    entries = await _entries(client)
    new = entries[:len(entries) - before]
    actions = [e["action"] for e in reversed(new)]
    assert actions == ["verification.put_policy", "verification.create_rule",
                       "timeliness.put_schedule", "timeliness.put_contact",
                       "verification.verify_bulk"], actions
    assert all(e["actor"] == "walidata" and e["key_id"] == "key_walidata" for e in new)
    assert new[-1]["target"] == slug and new[-1]["details"]["method"] == "PUT"
    assert "contoh@" not in str(new)  # a contact's address is not copied into the log
