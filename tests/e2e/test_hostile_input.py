"""Input bounded before it costs: hostile and careless files through the gateway, as a village
key would send them. Each gets a 4xx before any of its rows is stored, ingest's memory stays
bounded while it reads them, and a normal submission of the same publisher completes after.
"""

from __future__ import annotations

import io
import threading
import time

import asyncpg
import openpyxl
import psutil
import pytest

from tests.helpers import eventually

pytestmark = [pytest.mark.e2e]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RSS_LIMIT = 300 * 1024 * 1024


def _workbook(far_cell: str) -> bytes:
    """A header, one data row, and one cell far away: a few KB whose used range is huge."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region", "period", "jenis_kelamin", "jumlah"])
    ws.append(["64.08.04.2001", "2024", "L", 5])
    ws[far_cell] = 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _wide_csv(columns: int) -> bytes:
    return (",".join(f"c{i}" for i in range(columns)) + "\n" + "1," * (columns - 1) + "1\n"
            ).encode()


JSON_ROW = {"region": "64.08.04.2001", "period": "2024", "jenis_kelamin": "L"}
CASES = {
    "xlsx_XFD1048576": ("file", ("a.xlsx", _workbook("XFD1048576"), XLSX), 422,
                        "too_many_columns"),
    "xlsx_Z200000": ("file", ("b.xlsx", _workbook("Z200000"), XLSX), 422,
                     "sheet_range_too_large"),
    "csv_1e6_columns": ("file", ("c.csv", _wide_csv(1_000_000), "text/csv"), 422,
                        "too_many_columns"),
    "cell_1MB": ("json", {**JSON_ROW, "jumlah": "9" * 1_000_000}, 422, "cell_too_large"),
    "nested_object": ("json", {**JSON_ROW, "jumlah": {"nilai": 5}}, 422, "nested_value"),
    "nul_in_text": ("json", {**JSON_ROW, "jumlah": "5\u0000"}, 422, "nul_character"),
    "infinity": ("raw", b'[{"region": "64.08.04.2001", "period": "2024", '
                        b'"jenis_kelamin": "L", "jumlah": 1e309}]', 422, None),
    "nan": ("raw", b'[{"region": "64.08.04.2001", "period": "2024", '
                   b'"jenis_kelamin": "L", "jumlah": NaN}]', 422, None),
}


class PeakRss:
    """The largest resident size of a process, sampled every 10 ms in a thread."""

    def __init__(self, pid: int):
        self.process, self.peak, self._stop = psutil.Process(pid), 0, threading.Event()

    def __enter__(self):
        def sample():
            while not self._stop.is_set():
                self.peak = max(self.peak, self.process.memory_info().rss)
                time.sleep(0.01)
        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


async def _send(c, p, kind, payload, dry_run: bool):
    params = {"dataset": "jumlah-penduduk", **({"dry_run": "true"} if dry_run else {})}
    headers = p.auth("DESA")
    if kind == "file":
        return await c.post("/v1/submissions", params=params, headers=headers,
                            files={"file": payload})
    if kind == "json":
        return await c.post("/v1/submissions", params=params, headers=headers,
                            json={"rows": [payload]})
    return await c.post("/v1/submissions", params=params,
                        headers={**headers, "Content-Type": "application/json"},
                        content=b'{"dataset": "jumlah-penduduk", "rows": ' + payload + b"}")


@pytest.mark.parametrize("dry_run", [False, True], ids=["submit", "dry_run"])
async def test_hostile_files_get_a_4xx_before_any_row_is_stored_in_bounded_memory(
        running_platform, dry_run):
    p = running_platform
    conn = await asyncpg.connect(p.database_url)
    try:
        before = await conn.fetchval("SELECT count(*) FROM ingest.submission_rows")
        async with p.client() as c:
            with PeakRss(p.procs.procs["ingest"].pid) as rss:
                for name, (kind, payload, status, code) in CASES.items():
                    r = await _send(c, p, kind, payload, dry_run)
                    assert r.status_code == status, (name, r.status_code, r.text[:300])
                    body = r.json()["error"]
                    if code:
                        assert body["code"] == code, (name, body)
                    assert body["message"], name
            assert rss.peak < RSS_LIMIT, f"ingest peaked at {rss.peak / 2**20:.0f} MB"
            assert await conn.fetchval("SELECT count(*) FROM ingest.submission_rows") == before
            # the same publisher's normal submission goes through afterwards
            r = await c.post("/v1/submissions", headers=p.auth("DESA"), json={
                "dataset": "jumlah-penduduk", "rows": [{**JSON_ROW, "jumlah": 7}]})
            assert r.status_code == 202, r.text
            sid = r.json()["id"]

            async def completed():
                s = (await c.get(f"/v1/submissions/{sid}", headers=p.auth("DESA"))).json()
                return s["status"] == "completed"
            await eventually(completed, timeout=60, interval=0.3)
    finally:
        await conn.close()


async def test_a_period_that_is_not_a_real_period_is_refused_naming_its_row(running_platform):
    p = running_platform
    async with p.client() as c:
        r = await c.post("/v1/submissions", params={"dry_run": "true"}, headers=p.auth("DESA"),
                         json={"dataset": "jumlah-penduduk",
                               "rows": [{**JSON_ROW, "period": "0000", "jumlah": 5}]})
    assert r.status_code == 200, r.text
    [rejected] = r.json()["rejected_rows"]
    assert (rejected["field"], rejected["code"]) == ("period", "period_format")
    assert "0000" in rejected["message"]


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
async def test_a_latin1_or_utf16_csv_is_read(running_platform, encoding):
    p = running_platform
    text = "region;period;jenis_kelamin;jumlah;keterangan\n" \
           "64.08.04.2001;2021;L;12;Désa contoh\n"
    async with p.client() as c:
        r = await c.post("/v1/submissions", params={"dry_run": "true"}, headers=p.auth("DESA"),
                         data={"dataset": "jumlah-penduduk"},
                         files={"file": ("p.csv", text.encode(encoding), "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["created"] + r.json()["counts"]["updated"] + \
        r.json()["counts"]["unchanged"] == 1, r.json()
    assert [w["column"] for w in r.json()["warnings"]] == ["keterangan"]
