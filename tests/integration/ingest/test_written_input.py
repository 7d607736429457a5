"""Files as a desa operator writes them, through ingest and the real registry: numbers by
locale, lines as an editor shows them, repeated keys refused, places named as people name them."""

from __future__ import annotations

import asyncio
import io

import httpx
import openpyxl
import pytest

from tests.helpers import eventually, signed
from tests.integration.ingest.conftest import DESA, auth

DATASET = "jumlah-penduduk"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the whole path: the registry consumes ingest's chunks


async def _completed(client, submission_id):
    async def check():
        body = (await client.get(f"/v1/submissions/{submission_id}", headers=auth())).json()
        return body if body["status"] == "completed" else None
    return await eventually(check, timeout=30)


async def _records(registry_url):
    async with httpx.AsyncClient(base_url=registry_url, auth=signed()) as client:
        items = (await client.get(f"/v1/datasets/{DATASET}/records",
                                  params={"region": DESA})).json()["items"]
    return {(r["period"], r["dimensions"]["jenis_kelamin"]): r["values"]["jumlah"]
            for r in items}


async def test_indonesian_csv_stores_2000_and_refuses_the_ambiguous_row_by_its_line(
        client, registry_url):
    csv_text = ("Kode Wilayah;Tahun;Jenis Kelamin;Jumlah\n"
                "Desa Sangatta Utara;2024;L;2.000\n"
                "\n"
                f"{DESA};2024;P;3,000\n")
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("penduduk.csv", csv_text, "text/csv")},
                                 headers=auth())
    assert response.status_code == 202, response.text
    done = await _completed(client, response.json()["id"])
    assert done["counts"]["created"] == 1 and done["counts"]["rejected"] == 1
    [bad] = done["rejected_rows"]
    assert (bad["index"], bad["line"], bad["field"], bad["code"]) == (
        1, 4, "jumlah", "number_ambiguous")
    assert await _records(registry_url) == {("2024", "L"): 2000}


async def test_english_locale_on_request(client, registry_url):
    response = await client.post(
        f"/v1/submissions?dataset={DATASET}&locale=en",
        content=f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,\"2,000\"\n",
        headers={**auth(), "Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    await _completed(client, response.json()["id"])
    assert await _records(registry_url) == {("2024", "L"): 2000}
    refused = await client.post(f"/v1/submissions?dataset={DATASET}&locale=fr",
                                content="region\n", headers={**auth(),
                                                             "Content-Type": "text/csv"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "locale_unknown"


async def test_repeated_keys_in_different_chunks_are_both_refused_naming_each_other(
        client, registry_url):
    # chunk_rows=2 in these tests: lines 2-3 are one chunk, line 4 the next; line 4 names the
    # same village by its BPS code, so only the registry's resolution shows the repeat.
    csv_text = (f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,10\n{DESA},2024,P,11\n"
                "6404040012,2024,l,12\n")
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("dobel.csv", csv_text, "text/csv")},
                                 headers=auth())
    done = await _completed(client, response.json()["id"])
    refused = {r["line"]: r for r in done["rejected_rows"]}
    assert set(refused) == {2, 4}
    assert all(r["code"] == "duplicate_key" for r in refused.values())
    assert refused[2]["details"]["other_lines"] == [4] and "baris 4" in refused[2]["message"]
    assert refused[4]["details"]["other_lines"] == [2] and "baris 2" in refused[4]["message"]
    assert await _records(registry_url) == {("2024", "P"): 11}  # never resolved silently


async def test_dry_run_names_lines_suggestions_and_keys_written_differently(client):
    rows = [{"region": DESA, "period": "2024", "jenis_kelamin": "L", "jumlah": 5},
            {"region": "Desa Sangatta Utara", "period": "2024", "jenis_kelamin": "L",
             "jumlah": 6},
            {"region": "Desa Sangata Utra", "period": "2024", "jenis_kelamin": "P",
             "jumlah": "1.234"},
            {"region": "Kec. Sangatta Utara", "period": "2024", "jenis_kelamin": "P",
             "jumlah": 1}]
    response = await client.post("/v1/submissions?dry_run=true",
                                 json={"dataset": DATASET, "rows": rows}, headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    by_line = {r["line"]: r for r in body["rejected_rows"]}
    assert {r["code"] for r in body["rejected_rows"] if r["line"] in (1, 2)} == {
        "duplicate_key"}
    assert by_line[1]["details"]["other_lines"] == [2]
    assert by_line[3]["code"] == "region_unknown"
    suggestion = by_line[3]["details"]["suggestions"][0]
    assert (suggestion["code"], suggestion["name"]) == (DESA, "Sangatta Utara")
    assert "Sangatta Utara (64.08.04.2001" in by_line[3]["message"]
    assert by_line[4]["code"] == "region_level"  # a kecamatan, never bent to the desa
    assert body["counts"]["rejected"] == 4


async def test_xlsx_refusals_carry_the_sheet_and_its_row_number(client):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Penduduk"
    for row, cells in [(3, ["Wilayah", "Tahun", "Jenis Kelamin", "Jumlah"]),  # rows 1-2 empty
                       (4, [DESA, "2024", "L", "2.000"]), (5, [DESA, "2024", "P", "12 jiwa"])]:
        for column, value in enumerate(cells, start=1):
            ws.cell(row=row, column=column, value=value)
    out = io.BytesIO()
    wb.save(out)
    response = await client.post("/v1/submissions?dry_run=true", data={"dataset": DATASET},
                                 files={"file": ("p.xlsx", out.getvalue(), XLSX)},
                                 headers=auth())
    assert response.status_code == 200, response.text
    body = response.json()
    [bad] = body["rejected_rows"]
    assert (bad["line"], bad["sheet"], bad["code"]) == (5, "Penduduk", "not_a_number")
    [item] = body["diff"]
    assert (item["line"], item["sheet"], item["proposed"]) == (4, "Penduduk", {"jumlah": 2000})


async def test_the_registry_is_asked_while_no_transaction_of_ingest_is_open(
        client, database_url, monkeypatch):
    """Region cells are resolved by the registry over HTTP: by then the rows are parsed and
    spooled, and no ingest connection sits idle in a transaction waiting for the answer. (A
    transaction held across the call stays open while the call waits: the same one is seen
    twice, half a second apart. Other transactions of ingest pass through that state between
    their statements, and the outbox relay's while JetStream acknowledges what it sent; a
    single look caught one of those: [1] == [0].)"""
    import asyncpg

    from services.ingest.registry_client import RegistryClient
    open_during_call = []
    real = RegistryClient.resolve_regions

    async def idle_in_transaction(conn) -> set:
        return {tuple(r) for r in await conn.fetch(
            "SELECT pid, xact_start FROM pg_stat_activity WHERE application_name = 'ingest' "
            "AND state LIKE 'idle in transaction%' AND datname = current_database()")}

    async def watched(self, slug, values):
        conn = await asyncpg.connect(database_url)
        try:
            first = await idle_in_transaction(conn)
            await asyncio.sleep(0.5)
            open_during_call.append(len(first & await idle_in_transaction(conn)))
        finally:
            await conn.close()
        return await real(self, slug, values)
    monkeypatch.setattr(RegistryClient, "resolve_regions", watched)
    csv_text = (f"region,period,jenis_kelamin,jumlah\n{DESA},2024,L,10\n"
                "6404040012,2024,l,12\n")
    response = await client.post("/v1/submissions", data={"dataset": DATASET},
                                 files={"file": ("dobel.csv", csv_text, "text/csv")},
                                 headers=auth())
    assert response.status_code == 202, response.text
    done = await _completed(client, response.json()["id"])
    assert open_during_call == [0]
    assert {r["line"] for r in done["rejected_rows"]} == {2, 3}  # still found as one place
