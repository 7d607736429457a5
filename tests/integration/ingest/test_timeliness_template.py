"""A template downloaded for a desa key, filled in and uploaded otherwise unchanged, goes
through ingest and the registry with 0 rejected rows (XLSX and CSV)."""

from __future__ import annotations

import io

import httpx
import pytest
from openpyxl import load_workbook

from tests.helpers import signed
from tests.integration.ingest.conftest import DESA, auth, final_status

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the registry consumes this test's chunks: the whole path


async def _template(registry_url: str, fmt: str) -> bytes:
    async with httpx.AsyncClient(base_url=registry_url, timeout=20, auth=signed()) as c:
        r = await c.get("/v1/datasets/jumlah-penduduk/template", params={"format": fmt},
                        headers=auth())
    assert r.status_code == 200, r.text
    return r.content


async def test_filled_xlsx_template_is_accepted_with_no_rejected_rows(client, registry_url):
    workbook = load_workbook(io.BytesIO(await _template(registry_url, "xlsx")))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header == ["kode_wilayah", "nama_wilayah", "periode", "jenis_kelamin", "jumlah"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == [DESA, DESA] and rows[0][2].value
    for n, row in enumerate(rows):
        row[4].value = 1200 + n  # the only change: the blanks filled in
    out = io.BytesIO()
    workbook.save(out)
    r = await client.post("/v1/submissions", data={"dataset": "jumlah-penduduk"},
                          files={"file": ("templat.xlsx", out.getvalue(), XLSX)},
                          headers=auth())
    assert r.status_code == 202, r.text
    done = await final_status(client, r.json()["status_url"], timeout=60)
    assert done["status"] == "completed", done
    assert done["counts"]["rejected"] == 0 and done["counts"]["created"] == 2


async def test_filled_csv_template_is_accepted_with_no_rejected_rows(client, registry_url):
    lines = (await _template(registry_url, "csv")).decode().splitlines()
    filled = [lines[0]] + [line + str(500 + n) for n, line in enumerate(lines[1:])]
    r = await client.post("/v1/submissions", data={"dataset": "jumlah-penduduk"},
                          files={"file": ("templat.csv", "\n".join(filled) + "\n", "text/csv")},
                          headers=auth())
    assert r.status_code == 202, r.text
    done = await final_status(client, r.json()["status_url"], timeout=60)
    assert done["status"] == "completed", done
    assert done["counts"]["rejected"] == 0 and done["counts"]["created"] == 2
