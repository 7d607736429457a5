"""A sensitive dataset's desa count of 3 is hidden in every public channel, no
published total lets it be recomputed, and the walidata and the publisher who sent it still
see 3. Real registry, search and gateway over real PostgreSQL and NATS (the ``stack`` fixture of
tests/integration/conftest.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import json

import ckanapi
import httpx
from openpyxl import load_workbook

from services.registry.publishing import apply as registry_service
from shared.privacy import ANY, Cell
from tests.helpers import eventually
from tests.unit.test_privacy_suppression import recoverable

SLUG = "jumlah-penduduk"
DESA = "64.08.04.2001"  # the desa whose count of 3 must not be seen
SMALL = (DESA, "2025", ("L",))
VALUES = {  # (desa, period, sex) -> count; the desa publisher sends its own desa
    (DESA, "2025", "L"): 3, (DESA, "2025", "P"): 40,
    ("64.08.04.2011", "2025", "L"): 12, ("64.08.04.2011", "2025", "P"): 15,
    ("64.08.04.2012", "2025", "L"): 21, ("64.08.04.2012", "2025", "P"): 22,
    ("64.08.01.2001", "2025", "L"): 30, ("64.08.01.2001", "2025", "P"): 31,
    (DESA, "2024", "L"): 8, (DESA, "2024", "P"): 41,
    ("64.08.04.2011", "2024", "L"): 12, ("64.08.04.2011", "2024", "P"): 15,
    ("64.08.01.2001", "2024", "L"): 30, ("64.08.01.2001", "2024", "P"): 30,
}


async def _load(stack, client) -> None:
    r = await client.put(f"/v1/datasets/{SLUG}/privacy", headers=stack["walidata"],
                         json={"sensitive": True, "k": 5})
    assert r.status_code == 200, r.text
    assert (r.json()["k"], r.json()["publish_zero"]) == (5, True)
    refused = await client.put(f"/v1/datasets/{SLUG}/privacy", headers=stack["opd"],
                               json={"sensitive": False})
    assert refused.status_code == 403
    unknown = await client.put("/v1/datasets/tidak-ada/privacy", headers=stack["walidata"],
                               json={"sensitive": True})
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "dataset_not_found")
    bad = await client.put(f"/v1/datasets/{SLUG}/privacy", headers=stack["walidata"],
                           json={"k": 1, "warna": "merah"})
    assert bad.status_code == 422 and "error" in bad.json()
    shown = (await client.get(f"/v1/datasets/{SLUG}/privacy")).json()
    assert (shown["sensitive"], shown["k"], shown["updated_by"]) == (True, 5, "walidata")
    audit = (await client.get("/v1/audit", headers=stack["walidata"],
                              params={"action": "dataset.privacy"})).json()["items"]
    assert (audit[0]["actor"], audit[0]["target"]) == ("walidata", SLUG)
    assert audit[0]["details"]["k"] == 5
    by_publisher: dict[str, list] = {}
    for (region, period, sex), n in VALUES.items():
        who = f"desa-{DESA}" if region == DESA else "disdukcapil"
        by_publisher.setdefault(who, []).append(
            {"region": region, "period": period, "jenis_kelamin": sex, "jumlah": n})
    async with stack["pool"].acquire() as conn, conn.transaction():
        for who, rows in sorted(by_publisher.items()):
            out = await registry_service.apply_rows(conn, dataset_slug=SLUG, publisher_id=who,
                                                    rows=rows)
            assert out.counts.created == len(rows), out.rejected


def _numbers(body, found: list, key: str | None = None) -> list:
    """Every number under a 'values'/'value'/measure key, anywhere in a JSON answer."""
    if isinstance(body, dict):
        for k, v in body.items():
            _numbers(v, found, k if k in ("values", "value", "jumlah") or key == "values"
                     else None)
    elif isinstance(body, list):
        for v in body:
            _numbers(v, found, key)
    elif key and isinstance(body, (int, float)) and not isinstance(body, bool):
        found.append(body)
    return found


HIDDEN = {"value": None, "suppressed": True, "reason": "kurang_dari_5"}


async def _public_figures(client) -> tuple[dict, set]:
    """The public records and every total the aggregates publish: (record of the small
    cell, keys shown hidden)."""
    hidden, small = set(), None
    for period in ("2024", "2025"):
        records = (await client.get(f"/v1/datasets/{SLUG}/records",
                                    params={"period": period})).json()["items"]
        for r in records:
            key = (r["region_code"], r["period"], (r["dimensions"]["jenis_kelamin"],))
            if isinstance(r["values"]["jumlah"], dict):
                hidden.add(key)
            if key == SMALL:
                small = r
        for region in ("64.08", "64.08.04", "64.08.01"):
            for sex in (None, "L", "P"):
                params = {"dataset": SLUG, "period": period, "region": region,
                          **({"jenis_kelamin": sex} if sex else {})}
                body = (await client.get("/v1/aggregates", params=params)).json()
                pattern = (sex or ANY,)
                for code, v in [(region, body["value"])] + [
                        (c["region"]["code"], c["value"]) for c in body["children"]]:
                    if isinstance(v, dict):
                        assert v["suppressed"] is True and v["value"] is None
                        hidden.add((code, period, pattern))
        body = (await client.get("/v1/aggregates", params={
            "dataset": SLUG, "period": period, "region": "64.08.04", "sum": "false"})).json()
        assert 3 not in _numbers(body, [])
    return small, hidden


async def test_a_desa_count_of_3_is_hidden_everywhere_public_and_cannot_be_recomputed(stack):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        await _load(stack, client)
        small, hidden = await _public_figures(client)
        assert small["values"]["jumlah"] == HIDDEN
        # no published total lets it be recomputed: an exact rank argument over every
        # figure (cells and totals at desa, kecamatan, kabupaten, L/P/all, each period)
        cells = [Cell(("64.08", region[:8], region), period, (sex,), n)
                 for (region, period, sex), n in VALUES.items()]
        unpublished = {(r, ANY, d) for c in cells for r in c.path for d in (c.dims, (ANY,))}
        assert SMALL in hidden
        # (a total over periods is never published: it is an unknown too, free to be found)
        assert [k for k in recoverable(cells, hidden | unpublished) if k in hidden] == []

        record_id = small["id"]
        detail = (await client.get(f"/v1/records/{record_id}")).json()
        as_of = (await client.get(f"/v1/records/{record_id}",
                                  params={"as_of": "2099-01-01"})).json()
        completeness = (await client.get("/v1/completeness",
                                         params={"dataset": SLUG, "period": "2025"})).json()
        changes = (await client.get("/v1/changes", params={"since": 0})).json()
        answers = {"record": detail, "as_of": as_of, "completeness": completeness,
                   "changes": changes}
        assert detail["values"]["jumlah"] == HIDDEN == detail["history"][0]["values"]["jumlah"]
        assert as_of["values"]["jumlah"] == HIDDEN

        # exports, all formats
        csv_text = (await client.get(f"/v1/datasets/{SLUG}/records",
                                     params={"format": "csv", "period": "2025"})).text
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        row = next(r for r in rows if r["kode_wilayah"] == DESA and r["jenis_kelamin"] == "L")
        assert row["jumlah"] == "" and row["disembunyikan"] == "jumlah: kurang_dari_5"
        assert "3" not in [r["jumlah"] for r in rows]
        answers["json_export"] = (await client.get(f"/v1/datasets/{SLUG}/records",
                                                   params={"format": "json"})).json()
        xlsx = await client.get(f"/v1/datasets/{SLUG}/records", params={"format": "xlsx"})
        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
        at = table[0].index("jumlah")
        assert "disembunyikan" in table[0]
        assert 3 not in [r[at] for r in table[1:]]
        assert [r[table[0].index("disembunyikan")] for r in table[1:]
                if r[0] == DESA and r[3] == "L" and r[2] == "2025"] == ["jumlah: kurang_dari_5"]

        # CKAN datastore_search: null in the numeric field
        ckan = ckanapi.RemoteCKAN(stack["url"])
        found = await asyncio.to_thread(ckan.action.datastore_search, resource_id=SLUG,
                                        limit=100)
        mine = [r for r in found["records"] if r["region_code"] == DESA]
        assert None in [r["jumlah"] for r in mine] and 3 not in [r["jumlah"] for r in mine]
        by_value = await asyncio.to_thread(ckan.action.datastore_search, resource_id=SLUG,
                                           filters={"jumlah": 3})
        assert by_value["records"] == []

        # search: documents, snippets, facets
        async def indexed():
            body = (await client.get("/v1/search", params={"q": "sangatta utara",
                                                           "kind": "record"})).json()
            assert body["total"] >= 4, body
            return body
        answers["search"] = await eventually(indexed, timeout=30)

        # live events (SSE), read from the start of the feed
        answers["sse"] = await asyncio.wait_for(_read_events(stack["url"], len(VALUES)), 20)

        for name, body in answers.items():
            assert 3 not in _numbers(body, []), name
        assert "kurang_dari_5" in json.dumps(answers["search"])

        # the walidata and the publisher who sent it see 3; another publisher does not
        for who, sees in (("walidata", 3), ("desa", 3), ("opd", HIDDEN)):
            got = (await client.get(f"/v1/records/{record_id}", headers=stack[who])).json()
            assert got["values"]["jumlah"] == sees, who
        mine = (await client.get(f"/v1/datasets/{SLUG}/records", headers=stack["walidata"],
                                 params={"period": "2025", "region": DESA})).json()["items"]
        assert 3 in [r["values"]["jumlah"] for r in mine]
        total = (await client.get("/v1/aggregates", headers=stack["walidata"], params={
            "dataset": SLUG, "period": "2025", "region": "64.08.04"})).json()
        assert total["value"] == 3 + 40 + 12 + 15 + 21 + 22


async def _read_events(url: str, want: int) -> list[dict]:
    got: list[dict] = []
    async with httpx.AsyncClient(base_url=url, timeout=None) as client:
        async with client.stream("GET", "/v1/events",
                                 headers={"Last-Event-ID": "0"}) as r:
            assert r.status_code == 200
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
                    if len(got) >= want:
                        return got
    return got


async def test_a_row_with_a_nik_is_refused_and_the_others_are_kept(stack):
    rows = [{"region": DESA, "period": "2025", "jenis_kelamin": "L", "jumlah": 120},
            {"region": "64.08.04.2011", "period": "2025", "jenis_kelamin": "6408041508900001",
             "jumlah": 7},
            {"region": "64.08.04.2012", "period": "2025", "jenis_kelamin": "P",
             "jumlah": "0812-3456-7890"}]
    async with stack["pool"].acquire() as conn, conn.transaction():
        out = await registry_service.apply_rows(conn, dataset_slug=SLUG,
                                                publisher_id="disdukcapil", rows=rows)
    assert out.counts.created == 1 and out.counts.rejected == 2
    codes = {r.index: r.code for r in out.rejected}
    assert codes == {1: "personal_data_nik", 2: "personal_data_phone"}
    assert out.row_outcomes() == {"created": [0], "rejected": [1, 2]}  # the receipt says so
    nik = next(r for r in out.rejected if r.index == 1)
    assert nik.field == "jenis_kelamin" and nik.line == 2
    assert "Data pribadi" in nik.message and "6408041508900001" not in nik.model_dump_json()


async def test_marking_a_dataset_sensitive_later_hides_what_search_already_indexed(stack):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        rows = [{"region": region, "period": period, "jenis_kelamin": sex, "jumlah": n}
                for (region, period, sex), n in VALUES.items()]
        async with stack["pool"].acquire() as conn, conn.transaction():
            out = await registry_service.apply_rows(conn, dataset_slug=SLUG,
                                                    publisher_id="walidata", rows=rows)
            assert out.counts.created == len(rows)

        async def search_numbers() -> list:
            body = (await client.get("/v1/search", params={"q": "sangatta utara",
                                                           "kind": "record"})).json()
            assert body.get("total", 0) >= 4, body
            return _numbers(body, [])

        async def shown():
            return 3 in await search_numbers()  # not sensitive yet: the real value
        await eventually(shown, timeout=30)
        r = await client.put(f"/v1/datasets/{SLUG}/privacy", headers=stack["walidata"],
                             json={"sensitive": True})
        assert r.status_code == 200, r.text

        async def hidden():
            return 3 not in await search_numbers()
        await eventually(hidden, timeout=30)
        public = (await client.get(f"/v1/datasets/{SLUG}/records")).json()["items"]
        assert 3 not in _numbers(public, [])
