"""The receipt key `make up` generates, and rotation keeping old keys listed."""

import json
import os
import stat

from typer.testing import CliRunner

from satudata import receipt
from satudata.cli import app as cli
from shared import receipts


def test_make_up_generates_one_private_key_and_publishes_its_public_half(tmp_path,
                                                                         monkeypatch):
    monkeypatch.delenv("SATUDATA_RECEIPT_KEY", raising=False)
    monkeypatch.delenv("SATUDATA_RECEIPT_KEY_FILE", raising=False)
    env = receipt.ensure_key(tmp_path)
    key_file = tmp_path / "receipt-key.pem"
    assert env["SATUDATA_RECEIPT_KEY_FILE"] == str(key_file)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    first = key_file.read_bytes()
    receipt.ensure_key(tmp_path)
    assert key_file.read_bytes() == first  # generated once, then reused
    public = json.loads((tmp_path / "receipt-keys.json").read_text())
    assert [k["status"] for k in public["keys"]] == ["current"]
    assert "PRIVATE" not in (tmp_path / "receipt-keys.json").read_text()


def test_an_operators_key_is_left_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("SATUDATA_RECEIPT_KEY_FILE", "/run/secrets/receipt-key.pem")
    assert receipt.ensure_key(tmp_path) == {}
    assert not (tmp_path / "receipt-key.pem").exists()


def test_rotating_keeps_the_old_key_listed_so_old_receipts_verify(tmp_path, monkeypatch):
    monkeypatch.setenv("SATUDATA_HOME", str(tmp_path))
    monkeypatch.delenv("SATUDATA_RECEIPT_KEY_FILE", raising=False)
    monkeypatch.delenv("SATUDATA_RECEIPT_KEY", raising=False)
    receipt.ensure_key(tmp_path)
    old = receipts.Signer(receipts.load_private((tmp_path / "receipt-key.pem").read_bytes()))
    signed = old.sign({"type": "satudata.receipt.v1", "submission_id": "contoh"})
    (tmp_path / "r.json").write_bytes(signed)
    run = CliRunner().invoke(cli, ["receipt", "rotate-key"])
    assert run.exit_code == 0, run.output
    public = json.loads((tmp_path / "receipt-keys.json").read_text())
    assert [k["status"] for k in public["keys"]] == ["current", "retired"]
    assert public["keys"][1]["kid"] == old.key_id != public["keys"][0]["kid"]
    run = CliRunner().invoke(cli, ["receipt", "verify", str(tmp_path / "r.json")])
    assert run.exit_code == 0 and "VALID" in run.output, run.output
