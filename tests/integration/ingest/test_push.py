"""`satudata push` against a served ingest (behind a stand-in for the gateway's key check)."""

from __future__ import annotations

import asyncio
import re

import pytest
import typer
from typer.testing import CliRunner

from satudata.push import push
from services.ingest.app import create_app
from shared.auth import PRINCIPAL_HEADER, PROOF_HEADER
from shared.signing import principal_proof, signed_headers
from tests.helpers import served, signing_key
from tests.integration.ingest.conftest import DESA, principal


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the real registry processes the pushed rows


def gateway_stand_in(app, key: str):
    """Turns `Authorization: Bearer <key>` into the principal header and signs the call, as
    the gateway does."""
    encoded = principal().encode()

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope["path"] != "/healthz":
            headers = [(k, v) for k, v in scope["headers"] if k != PRINCIPAL_HEADER.lower().encode()]
            given = ""
            if (b"authorization", f"Bearer {key}".encode()) in headers:
                headers.append((PRINCIPAL_HEADER.lower().encode(), encoded.encode()))
                given = encoded
            body, more = b"", True
            while more:
                message = await receive()
                body += message.get("body", b"")
                more = message.get("more_body", False)
            target = scope["raw_path"].decode() + (
                "?" + scope["query_string"].decode() if scope["query_string"] else "")
            gateway = signing_key("gateway")
            proof = principal_proof(gateway, given) if given else ""  # as the gateway adds it
            if proof:
                headers.append((PROOF_HEADER.lower().encode(), proof.encode()))
            signed = signed_headers(gateway, scope["method"], target, body, given, proof)
            headers += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
            scope = {**scope, "headers": headers}
            sent = False

            async def receive():  # noqa: F811 - the body once more, for the service
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
        await app(scope, receive, send)

    return wrapped


async def test_push_of_a_file_with_one_bad_row_exits_non_zero_saying_how_many(ingest_settings,
                                                                                tmp_path):
    file = tmp_path / "penduduk.csv"
    file.write_text(f"Kode Wilayah,Tahun,Jenis Kelamin,Jumlah\n{DESA},2024,L,1234\n"
                    f"{DESA},2024,P,1300\n{DESA},2024,X,5\n")
    cli = typer.Typer()
    cli.command()(push)
    async with served(gateway_stand_in(create_app(ingest_settings), "kunci-desa")) as url:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli,
            [str(file), "--dataset", "jumlah-penduduk", "--key", "kunci-desa", "--url", url],
            env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    assert "Diterima 3 baris" in result.output
    assert "selesai" in result.output and "ditolak" in result.output
    assert "Baris ditolak" in result.output
    assert "1 dari 3 baris ditolak" in result.output
    assert "completed" not in result.output and "created" not in result.output
    # The bad row is line 4 of the file as an editor shows it (header = 1), not index 2.
    assert re.search(r"│ 4\s+│ jenis_kelamin\s+│ value_not_allowed", result.output), result.output


async def test_push_dry_run_stores_nothing_and_tells_the_truth(ingest_settings, ingest_db,
                                                               tmp_path):
    good, bad = tmp_path / "baik.csv", tmp_path / "buruk.csv"
    good.write_text(f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,1\n")
    bad.write_text(f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,1\n{DESA},2024,P,x\n")
    cli = typer.Typer()
    cli.command()(push)
    async with served(gateway_stand_in(create_app(ingest_settings), "kunci-desa")) as url:
        def run(file):
            return CliRunner().invoke(cli, [str(file), "-d", "jumlah-penduduk", "--dry-run",
                                            "--key", "kunci-desa", "--url", url],
                                      env={"COLUMNS": "200"})
        clean, refused = await asyncio.to_thread(run, good), await asyncio.to_thread(run, bad)
    assert clean.exit_code == 0, clean.output
    assert "uji coba" in clean.output and "Semua baris lolos" in clean.output
    assert refused.exit_code == 1, refused.output
    assert "1 dari 2 baris akan ditolak" in refused.output
    assert await ingest_db.fetchval("SELECT count(*) FROM submissions") == 0


async def test_push_reports_a_refusal_and_exits_non_zero(ingest_settings, tmp_path):
    file = tmp_path / "penduduk.csv"
    file.write_text(f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,1\n")
    cli = typer.Typer()
    cli.command()(push)
    async with served(gateway_stand_in(create_app(ingest_settings), "kunci-desa")) as url:
        result = await asyncio.to_thread(
            CliRunner().invoke, cli,
            [str(file), "--dataset", "tidak-ada", "--key", "kunci-desa", "--url", url])
    assert result.exit_code == 1
    assert "dataset_not_found" in result.output
