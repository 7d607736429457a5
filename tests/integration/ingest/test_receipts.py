"""Every final submission has a signed receipt (canonical JSON, Ed25519) that
verifies offline against the published keys and fails once any byte of it changes."""

import hashlib
import json
import uuid

import pytest
from typer.testing import CliRunner

from satudata.cli import app as cli
from services.ingest.settings import IngestSettings
from shared import receipts
from shared.canonical import canonical
from tests.integration.ingest.conftest import (
    DESA, auth, final_status, post_rows, principal, rows,
)


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the registry applies this module's chunks


@pytest.fixture
def key_pem():
    return receipts.generate_pem()


@pytest.fixture
def ingest_settings(database_url, nats_url, nats_namespace, registry_url, key_pem):
    return IngestSettings(database_url=database_url, nats_url=nats_url,
                          nats_namespace=nats_namespace, registry_url=registry_url,
                          chunk_rows=2, receipt_key=key_pem.decode())


async def _final_receipt(client, data):
    r = await post_rows(client, data)
    assert r.status_code == 202, r.text
    status = await final_status(client, r.json()["status_url"])
    r = await client.get(f"/v1/submissions/{status['id']}/receipt", headers=auth())
    assert r.status_code == 200, r.text
    return status, r.content


async def test_receipt_verifies_and_fails_after_any_one_byte_changes(client, tmp_path):
    data = rows(3) + [{"region": DESA, "period": "tahun lalu", "jenis_kelamin": "L",
                       "jumlah": 1}]
    status, body = await _final_receipt(client, data)
    keys_doc = (await client.get("/.well-known/satudata-keys.json")).json()
    keys = receipts.public_keys(keys_doc)
    ok, reason, receipt = receipts.verify(body, keys)
    assert ok, reason
    assert receipt["submission_id"] == status["id"] and receipt["publisher_id"] == \
        principal().publisher_id
    assert receipt["status"] == "completed" and receipt["rows"]["count"] == 4
    assert receipt["counts"]["created"] == 3 and receipt["counts"]["rejected"] == 1
    assert receipt["outcomes"] == {"created": [[0, 2]], "rejected": [[3, 3]]}
    assert receipt["key_id"] == keys_doc["keys"][0]["kid"]
    # JSON rows are stored as sent, so the publisher can recompute the hash of its own rows
    assert receipt["rows"]["sha256"] == hashlib.sha256(canonical(data)).hexdigest()
    for i in range(len(body)):
        changed = bytearray(body)
        changed[i] ^= 0x01
        assert not receipts.verify(bytes(changed), keys)[0], f"byte {i} changed, still valid"
    # the same receipt, byte for byte, when asked again
    again = await client.get(f"/v1/submissions/{status['id']}/receipt", headers=auth())
    assert again.content == body
    # offline, with the CLI and a saved keys file
    (tmp_path / "r.json").write_bytes(body)
    (tmp_path / "keys.json").write_text(json.dumps(keys_doc))
    run = CliRunner().invoke(cli, ["receipt", "verify", str(tmp_path / "r.json"),
                                   "--keys", str(tmp_path / "keys.json")])
    assert run.exit_code == 0 and "VALID" in run.output, run.output
    (tmp_path / "r.json").write_bytes(body.replace(b'"created":3', b'"created":4'))
    run = CliRunner().invoke(cli, ["receipt", "verify", str(tmp_path / "r.json"),
                                   "--keys", str(tmp_path / "keys.json")])
    assert run.exit_code == 1 and "INVALID" in run.output, run.output


async def test_receipt_is_the_publishers_own_and_waits_for_the_final_status(client):
    status, _ = await _final_receipt(client, rows(2))
    other = principal("desa-lain", scope="64.08.04.2002")
    r = await client.get(f"/v1/submissions/{status['id']}/receipt", headers=auth(other))
    assert r.status_code == 403 and r.json()["error"]["code"] == "submission_not_yours"
    walidata = principal("walidata", role="walidata", datasets=["*"], scope="64.08")
    r = await client.get(f"/v1/submissions/{status['id']}/receipt", headers=auth(walidata))
    assert r.status_code == 200


def test_a_receipt_signed_before_a_rotation_still_verifies():
    old = receipts.Signer(receipts.load_private(receipts.generate_pem()))
    signed = old.sign({"type": "satudata.receipt.v1", "submission_id": "contoh"})
    new = receipts.Signer(receipts.load_private(receipts.generate_pem()),
                          retired=[receipts.jwk(old.private.public_key())])
    document = new.keys_document()
    assert [k["status"] for k in document["keys"]] == ["current", "retired"]
    assert receipts.verify(signed, receipts.public_keys(document))[0]
    assert not receipts.verify(signed, receipts.public_keys(
        receipts.Signer(receipts.load_private(receipts.generate_pem())).keys_document()))[0]
    assert canonical({"b": 1, "a": [1.0, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()


async def test_a_submission_that_moves_on_gets_a_new_receipt_and_the_old_still_verifies(
        client, ingest_db):
    status, first = await _final_receipt(client, rows(2))
    # as when a dead-lettered chunk is replayed and applied after the first receipt
    await ingest_db.execute("UPDATE submissions SET updated_at = updated_at + interval '1 s' "
                            "WHERE id = $1", uuid.UUID(status["id"]))
    r = await client.get(f"/v1/submissions/{status['id']}/receipt", headers=auth())
    assert r.status_code == 200 and r.content != first
    keys = receipts.public_keys((await client.get("/.well-known/satudata-keys.json")).json())
    assert receipts.verify(r.content, keys)[0] and receipts.verify(first, keys)[0]
    assert json.loads(r.content)["final_at"] > json.loads(first)["final_at"]
