"""`satudata push` against a served ingest (behind a stand-in for the gateway's key check)."""

from __future__ import annotations

import asyncio
import re

import pytest
import typer
from typer.testing import CliRunner

from satudata.push import push
from services.ingest.app import create_app
from shared.auth import PRINCIPAL_HEADER
from tests.helpers import served
from tests.integration.ingest.conftest import DESA, principal


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the real registry processes the pushed rows


def gateway_stand_in(app, key: str):
    """Turns `Authorization: Bearer <key>` into the principal header, as the gateway does."""
    encoded = principal().encode().encode()

    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != PRINCIPAL_HEADER.lower().encode()]
            if (b"authorization", f"Bearer {key}".encode()) in headers:
                headers.append((PRINCIPAL_HEADER.lower().encode(), encoded))
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return wrapped


async def test_push_uploads_a_csv_and_prints_the_import_summary(ingest_settings, tmp_path):
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
    assert result.exit_code == 0, result.output
    assert "Diterima 3 baris" in result.output
    assert "completed" in result.output
    assert "Baris ditolak" in result.output
    # The bad row is line 4 of the file as an editor shows it (header = 1), not index 2.
    assert re.search(r"│ 4\s+│ jenis_kelamin\s+│ value_not_allowed", result.output), result.output


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
