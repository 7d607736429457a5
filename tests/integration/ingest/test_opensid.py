"""A village's OpenSID population export (the zip OpenSID's OpenDK sync builds: an XLSX with
one row per person, and photos) becomes the platform's population counts, counted in memory:
the dry run shows them, the submission goes the ordinary way through the real registry over
real NATS, and no NIK, KK or name lands anywhere. Generated sample people (contoh) only."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import httpx
import pytest
from openpyxl import Workbook

from services.ingest.opensid import age_group
from shared import clock
from tests.helpers import dataset_payload, signed
from tests.integration.ingest.conftest import DESA, auth, final_status, principal

SLUG = "penduduk-opensid"
WALIDATA = principal("walidata", role="walidata", datasets=["*"], scope="64.08")
# OpenSID's code ids: jenis_kelamin 1 laki-laki, 2 perempuan; status_dasar 1 hidup, 2 mati,
# 3 pindah. (sex, birth date, status_dasar) of the sample people:
PEOPLE = [(1, "1990-05-01", 1), (2, "1992-07-12", 1), (1, "2020-01-01", 1), (2, "2021-06-30", 1),
          (1, "1940-02-02", 1), (2, "1950-03-03", 2), (1, "1985-12-31", 3), (2, "2001-01-01", 1)]
NIKS = [f"640804{100000 + i:06d}0001" for i in range(len(PEOPLE))]


@pytest.fixture
def registry_namespace(nats_namespace):
    return nats_namespace  # the registry consumes this test's chunks


def _export() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "nomor_nik", "nama", "nomor_kk", "jenis_kelamin", "tanggal_lahir",
                  "agama", "status_dasar", "desa_id"])
    for i, ((sex, born, status), nik) in enumerate(zip(PEOPLE, NIKS)):
        sheet.append([i + 1, nik, f"Warga Contoh {i}", f"64080420{i // 2:08d}", sex,
                      date.fromisoformat(born), 1, status, "6408042001"])
    xlsx = io.BytesIO()
    book.save(xlsx)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("penduduk_6408042001.xlsx", xlsx.getvalue())
        z.writestr("foto/warga-0.jpg", b"\xff\xd8" + b"\0" * 5000)  # never opened
    return archive.getvalue()


async def test_an_opensid_export_becomes_counts_and_nothing_personal_lands(
        client, registry_url, database_url):
    async with httpx.AsyncClient(base_url=registry_url, auth=signed()) as registry:
        r = await registry.post("/v1/datasets", headers=auth(WALIDATA), json=dataset_payload(
            SLUG, title="Penduduk per jenis kelamin dan kelompok umur (OpenSID, contoh)",
            schema={"dimensions": [
                {"name": "jenis_kelamin", "label": "Jenis kelamin",
                 "values": {"L": "Laki-laki", "P": "Perempuan"}},
                {"name": "kelompok_umur", "label": "Kelompok umur"}],
                "measures": [{"name": "jumlah", "label": "Jumlah", "additive": True}]}))
        assert r.status_code in (200, 201), r.text
    body, url = _export(), f"/v1/opensid/population?dataset={SLUG}&region={DESA}&period=2026"
    headers = {**auth(WALIDATA), "content-type": "application/zip"}
    r = await client.post(url + "&dry_run=true", content=body, headers=headers)
    assert r.status_code == 200, r.text
    dry = r.json()
    assert dry["opensid"] == {"persons": 8, "living": 6, "not_living": 2, "unreadable": []}
    assert dry["rows"] == 32 and dry["counts"]["rejected"] == 0  # 2 sexes x 16 age groups

    r = await client.post(url, content=body, headers=headers)
    assert r.status_code == 202, r.text
    done = await final_status(client, r.json()["status_url"], WALIDATA, timeout=60)
    assert done["status"] == "completed" and done["counts"]["created"] == 32
    async with httpx.AsyncClient(base_url=registry_url, auth=signed()) as registry:
        records = (await registry.get(f"/v1/datasets/{SLUG}/records",
                                      params={"limit": 100})).json()["items"]
    got = {(r["dimensions"]["jenis_kelamin"], r["dimensions"]["kelompok_umur"]):
           r["values"]["jumlah"] for r in records if r["values"]["jumlah"]}
    today = clock.today_wita()  # the export's date, in Kutai Timur
    want: dict = {}
    for sex, born, status in PEOPLE:
        if status == 1:
            key = ("LP"[sex - 1], age_group(date.fromisoformat(born), today))
            want[key] = want.get(key, 0) + 1
    assert got == want and sum(got.values()) == 6

    # no NIK, name or KK in any table of any schema
    import asyncpg
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            """SELECT table_schema, table_name FROM information_schema.tables
               WHERE table_schema IN ('registry', 'ingest') AND table_type = 'BASE TABLE'""")
        for t in tables:
            found = await conn.fetchval(
                f'SELECT count(*) FROM "{t["table_schema"]}"."{t["table_name"]}" x '
                "WHERE x::text LIKE '%' || $1 || '%' OR x::text LIKE '%Warga Contoh%'",
                NIKS[0][-10:])
            assert found == 0, t
    finally:
        await conn.close()

    bad = await client.post(url + "&dry_run=true", content=b"bukan zip", headers=headers)
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "opensid_not_a_file")
    unknown = await client.post("/v1/opensid/population?dataset=Jumlah%20Penduduk",
                                content=body, headers=headers)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "dataset_not_found")
    # /metrics counts the door: two exports received (a dry run and the real one, which
    # became rows), two refused
    metrics = (await client.get("/metrics")).text
    assert 'satudata_connector_events_total{connector="opensid",outcome="received"} 2.0' in metrics
    assert 'satudata_connector_events_total{connector="opensid",outcome="refused"} 2.0' in metrics
    rows = float(re.search(r'connector="opensid",outcome="rows"\} (\S+)', metrics).group(1))
    assert rows == r.json()["rows"] > 0
    # the walidata sees each village's last sync; /metrics says how many villages synced
    assert 'satudata_connector_sources{connector="opensid"} 1.0' in metrics
    syncs = await client.get("/v1/opensid/syncs", headers=auth(WALIDATA))
    assert syncs.status_code == 200, syncs.text
    [last] = syncs.json()["items"]
    assert (last["publisher_id"], last["dataset"], last["rows"], last["status"]) == (
        "walidata", SLUG, 32, "completed")
    refused = await client.get("/v1/opensid/syncs",
                               headers=auth(principal(datasets=[SLUG])))
    assert refused.status_code == 403, refused.text
