"""Record versions and the audit log are hash chains; `satudata verify` names
any version or entry altered in the database; privileged actions leave an audit entry."""

import asyncio

import pytest

from satudata.verify import describe, verify_database
from services.registry.publishing import apply
from shared.auth import PRINCIPAL_HEADER, Principal
from tests.integration.registry.conftest import principal_headers

DESA = "64.08.04.2001"
STEWARD = principal_headers()


def _steward_from(address: str) -> dict:
    principal = Principal(key_id="key_walidata_1", publisher_id="walidata",
                          publisher_name="Diskominfo", role="walidata", region_scope="64.08",
                          datasets=["*"], client_addr=address)
    return {PRINCIPAL_HEADER: principal.encode()}


async def _apply(pool, publisher, value, period="2024"):
    async with pool.acquire() as conn, conn.transaction():
        return await apply.apply_rows(
            conn, dataset_slug="jumlah-penduduk", publisher_id=publisher,
            rows=[{"region": DESA, "period": period, "jenis_kelamin": "L", "jumlah": value}])


async def test_revoking_a_key_leaves_an_audit_entry_naming_who_and_from_where(client):
    headers = _steward_from("203.0.113.7")
    r = await client.post("/v1/keys", headers=headers,
                          json={"publisher_id": "disdukcapil", "label": "uji audit"})
    assert r.status_code == 201, r.text
    key_id = r.json()["id"]
    r = await client.post(f"/v1/keys/{key_id}/revoke", headers=headers)
    assert r.status_code == 200, r.text
    r = await client.get("/v1/audit", headers=STEWARD, params={"action": "key"})
    assert r.status_code == 200, r.text
    revoke, create = r.json()["items"][:2]
    assert (revoke["action"], revoke["target"]) == ("key.revoke", key_id)
    assert revoke["actor"] == "walidata" and revoke["key_id"] == "key_walidata_1"
    assert revoke["client_addr"] == "203.0.113.7"
    assert revoke["details"]["publisher_id"] == "disdukcapil"
    assert create["action"] == "key.create" and create["target"] == key_id
    assert revoke["prev_hash"] == create["hash"]  # one chain
    assert "raw" not in str(create["details"]) and "sd_" not in str(create["details"])


async def test_audit_log_is_for_walidata_and_admin_only(client):
    publisher = principal_headers(f"desa-{DESA}", "publisher", DESA, ["jumlah-penduduk"])
    r = await client.get("/v1/audit", headers=publisher)
    assert r.status_code == 403 and r.json()["error"]["code"] == "steward_only"
    assert (await client.get("/v1/audit")).status_code == 401


async def test_every_steward_change_is_audited(client, registry):
    await client.post("/v1/datasets/jumlah-penduduk/retract", headers=STEWARD,
                      json={"reason": "uji audit"})
    await client.post("/v1/datasets/jumlah-penduduk/restore", headers=STEWARD)
    r = await client.patch("/v1/publishers/disdukcapil", headers=STEWARD,
                           json={"name": "Disdukcapil Kutai Timur"})
    assert r.status_code == 200, r.text
    r = await client.get("/v1/audit", headers=STEWARD, params={"limit": 2})
    page = r.json()
    assert [e["action"] for e in page["items"]] == ["publisher.update", "dataset.restore"]
    older = await client.get("/v1/audit", headers=STEWARD,
                             params={"cursor": page["next_cursor"]})
    assert older.json()["items"][0]["action"] == "dataset.retract"
    assert older.json()["items"][0]["details"] == {"reason": "uji audit"}


async def test_verify_finds_intact_chains_after_updates_conflicts_and_retraction(client,
                                                                                  registry):
    pool = registry["pool"]
    await _apply(pool, "disdukcapil", 10)
    await _apply(pool, "disdukcapil", 11)
    outcome = await _apply(pool, "disdukcapil", 12)
    record_id = outcome.changed[0]["id"]
    r = await client.post(f"/v1/records/{record_id}/retract", headers=STEWARD,
                          json={"reason": "salah ketik"})
    assert r.status_code == 200, r.text
    report = await verify_database(registry["settings"].database_url)
    assert report["ok"], report
    assert report["versions"] >= 4 and report["audit_entries"] >= 1


@pytest.mark.parametrize("column, value", [("vals", """'{"jumlah": 999}'::jsonb"""),
                                           ("publisher_id", "'penyusup'")])
async def test_altering_a_stored_version_is_named_by_verify(registry, column, value):
    pool = registry["pool"]
    await _apply(pool, "disdukcapil", 20, period="2023")
    outcome = await _apply(pool, "disdukcapil", 21, period="2023")
    await _apply(pool, "disdukcapil", 22, period="2023")
    record_id = outcome.changed[0]["id"]
    async with pool.acquire() as conn:
        await conn.execute(f"UPDATE record_versions SET {column} = {value} "
                           "WHERE record_id = $1 AND version = 2", record_id)
    report = await verify_database(registry["settings"].database_url)
    assert not report["ok"]
    assert [(b["record_id"], b["version"]) for b in report["record_version_breaks"]] == [
        (str(record_id), 2)]
    assert f"record {record_id} version 2: hash_mismatch" in describe(report)


async def test_altering_a_current_record_or_removing_a_version_is_named(registry):
    pool = registry["pool"]
    first = (await _apply(pool, "disdukcapil", 30, period="2022")).changed[0]["id"]
    await _apply(pool, "disdukcapil", 31, period="2022")
    second = (await _apply(pool, "disdukcapil", 5, period="2021")).changed[0]["id"]
    await _apply(pool, "disdukcapil", 6, period="2021")
    async with pool.acquire() as conn:
        await conn.execute("""UPDATE records SET vals = '{"jumlah": 3000}' WHERE id = $1""",
                           first)
        await conn.execute("DELETE FROM record_versions WHERE record_id = $1 AND version = 1",
                           second)
    report = await verify_database(registry["settings"].database_url)
    assert not report["ok"]
    heads = {(b["record_id"], b["problem"]) for b in report["record_head_breaks"]}
    assert (str(first), "current_differs_from_history") in heads
    breaks = {(b["record_id"], b["version"], b["problem"])
              for b in report["record_version_breaks"]}
    assert (str(second), 2, "version_missing_before") in breaks


async def test_altering_an_audit_entry_is_named_by_verify(client, registry):
    for label in ("satu", "dua", "tiga"):
        r = await client.post("/v1/keys", headers=STEWARD,
                              json={"publisher_id": "disdukcapil", "label": label})
        assert r.status_code == 201
    entries = (await client.get("/v1/audit", headers=STEWARD)).json()["items"]
    middle = entries[1]["id"]
    url = registry["settings"].database_url
    assert (await verify_database(url))["ok"]
    async with registry["pool"].acquire() as conn:
        await conn.execute("""UPDATE audit_log SET actor = 'orang-lain' WHERE id = $1""",
                           middle)
    report = await verify_database(url)
    assert [(b["id"], b["problem"]) for b in report["audit_breaks"]] == [
        (middle, "hash_mismatch")]
    async with registry["pool"].acquire() as conn:
        await conn.execute("UPDATE audit_log SET actor = 'walidata' WHERE id = $1", middle)
        await conn.execute("DELETE FROM audit_log WHERE id = $1", middle)
    report = await verify_database(url)
    assert [(b["id"], b["problem"]) for b in report["audit_breaks"]] == [
        (entries[0]["id"], "entry_missing_before")]


async def test_satudata_verify_command_names_the_altered_version_and_exits_1(registry,
                                                                            monkeypatch):
    from typer.testing import CliRunner

    from satudata.cli import app as cli

    pool = registry["pool"]
    await _apply(pool, "disdukcapil", 40, period="2020")
    record_id = (await _apply(pool, "disdukcapil", 41, period="2020")).changed[0]["id"]
    monkeypatch.setenv("DATABASE_URL", registry["settings"].database_url)
    monkeypatch.setenv("NATS_URL", registry["settings"].nats_url)
    run = await asyncio.to_thread(CliRunner().invoke, cli, ["verify"])
    assert run.exit_code == 0 and "chains intact" in run.output, run.output
    async with pool.acquire() as conn:
        await conn.execute("""UPDATE record_versions SET vals = '{"jumlah": 4100}'
                              WHERE record_id = $1 AND version = 1""", record_id)
    run = await asyncio.to_thread(CliRunner().invoke, cli, ["verify"])
    assert run.exit_code == 1, run.output
    assert f"record {record_id} version 1: hash_mismatch" in run.output


async def _verify_cli(registry, monkeypatch) -> tuple[int, str]:
    """``satudata verify`` as an operator runs it, on this test's database."""
    from typer.testing import CliRunner

    from satudata.cli import app as cli

    monkeypatch.setenv("DATABASE_URL", registry["settings"].database_url)
    monkeypatch.setenv("NATS_URL", registry["settings"].nats_url)
    run = await asyncio.to_thread(CliRunner().invoke, cli, ["verify"])
    return run.exit_code, run.output


async def _through_apply(client, pool) -> str:
    await _apply(pool, "disdukcapil", 50, period="2019")
    return (await _apply(pool, "disdukcapil", 51, period="2019")).changed[0]["id"]


async def _through_verification(client, pool) -> str:
    record_id = (await _apply(pool, "disdukcapil", 60, period="2018")).changed[0]["id"]
    r = await client.put("/v1/datasets/jumlah-penduduk/verification-policy", headers=STEWARD,
                         json={"policy": "verifikasi"})
    assert r.status_code == 200, r.text
    held = await _apply(pool, "disdukcapil", 61, period="2018")
    assert held.counts.held == 1
    r = await client.post("/v1/verification/verify", headers=STEWARD,
                          json={"dataset": "jumlah-penduduk", "note": "sudah dicek"})
    assert r.status_code == 200, r.text
    reason = await pool.fetchval("SELECT reason FROM registry.record_versions "
                                 "WHERE record_id = $1 AND version = 2", record_id)
    assert reason and "sudah dicek" in reason  # the note is in the version, and in its hash
    return record_id


async def _through_conflict(client, pool) -> str:
    record_id = (await _apply(pool, "disdukcapil", 70, period="2017")).changed[0]["id"]
    outcome = await _apply(pool, "desa-64.08.04.2001", 72, period="2017")
    assert outcome.counts.conflicts == 1
    conflict_id = await pool.fetchval("SELECT id FROM registry.conflicts WHERE record_id = $1",
                                      record_id)
    r = await client.post(f"/v1/conflicts/{conflict_id}/accept", headers=STEWARD,
                          json={"note": "data desa lebih baru"})
    assert r.status_code == 200, r.text
    return record_id


async def _through_retraction(client, pool) -> str:
    record_id = (await _apply(pool, "disdukcapil", 80, period="2016")).changed[0]["id"]
    r = await client.post(f"/v1/records/{record_id}/retract", headers=STEWARD,
                          json={"reason": "salah ketik"})
    assert r.status_code == 200, r.text
    return record_id


@pytest.mark.parametrize("path", [_through_apply, _through_verification, _through_conflict,
                                  _through_retraction], ids=lambda f: f.__name__[9:])
async def test_every_version_writing_path_leaves_chains_that_satudata_verify_accepts(
        client, registry, monkeypatch, path):
    record_id = await path(client, registry["pool"])
    code, output = await _verify_cli(registry, monkeypatch)
    assert code == 0 and "chains intact" in output, output
    async with registry["pool"].acquire() as conn:  # and a hand edit is still named
        top = await conn.fetchval("SELECT max(version) FROM record_versions "
                                  "WHERE record_id = $1", record_id)
        await conn.execute("UPDATE record_versions SET reason = 'diubah diam-diam' "
                           "WHERE record_id = $1 AND version = $2", record_id, top)
    code, output = await _verify_cli(registry, monkeypatch)
    assert code == 1, output
    assert f"record {record_id} version {top}: hash_mismatch" in output


async def test_a_verification_note_written_after_the_hash_by_an_earlier_release_is_counted_not_alarmed(
        registry):
    pool = registry["pool"]
    record_id = (await _apply(pool, "disdukcapil", 90, period="2015")).changed[0]["id"]
    async with pool.acquire() as conn:  # what the earlier release did: note after the hash
        await conn.execute("UPDATE record_versions SET reason = 'Diverifikasi walidata "
                           "(walidata)' WHERE record_id = $1", record_id)
    report = await verify_database(registry["settings"].database_url)
    assert report["ok"] and report["legacy_verified_notes"] == 1, report
    async with pool.acquire() as conn:  # any other note is an alteration
        await conn.execute("UPDATE record_versions SET reason = 'lain' WHERE record_id = $1",
                           record_id)
    report = await verify_database(registry["settings"].database_url)
    assert not report["ok"] and report["record_version_breaks"][0]["problem"] == "hash_mismatch"
