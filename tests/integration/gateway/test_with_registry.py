"""The gateway in front of the real registry (PostgreSQL + NATS): keys, exports, change feed,
live events and the CKAN read API driven by the real ckanapi client."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime, timedelta, timezone

import ckanapi
import httpx
from openpyxl import load_workbook

from services.registry.datasets import service as registry_datasets
from services.registry.publishing import apply as registry_apply
from tests.helpers import dataset_payload, eventually

SLUG = "jumlah-penduduk"




async def test_real_keys_resolve_and_revocation_takes_effect(stack):
    walidata = stack["walidata"]
    publisher = {"X-API-Key": stack["summary"]["keys"]["SATUDATA_KEY_DESA"]}
    async with httpx.AsyncClient(base_url=stack["url"]) as client:
        change = {"description": "Diperbarui lewat gateway."}
        ok = await client.patch(f"/v1/datasets/{SLUG}", json=change, headers=walidata)
        assert ok.status_code == 200 and ok.json()["description"] == change["description"]
        refused = await client.patch(f"/v1/datasets/{SLUG}", json=change, headers=publisher)
        assert refused.status_code == 403
        async with stack["pool"].acquire() as conn:
            keys = await conn.fetch("SELECT id FROM api_keys WHERE role = 'walidata'")
            for key in keys:
                await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE id = $1",
                                   key["id"])

        async def refused():
            r = await client.patch(f"/v1/datasets/{SLUG}", json=change, headers=walidata)
            return r.status_code == 401 and r.json()["error"]["code"] == "revoked_api_key"

        await eventually(refused, timeout=5)


async def test_csv_json_and_xlsx_exports_hold_every_record(stack):
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        csv_r = await client.get(f"/v1/datasets/{SLUG}/records", params={"format": "csv"})
        json_r = await client.get(f"/v1/datasets/{SLUG}/records", params={"format": "json"})
        xlsx_r = await client.get(f"/v1/datasets/{SLUG}/records", params={"format": "xlsx"})
        page = await client.get(f"/v1/datasets/{SLUG}/records", params={"limit": 5})
        missing = await client.get("/v1/datasets/tidak-ada/records", params={"format": "xlsx"})
    rows = list(csv.reader(io.StringIO(csv_r.text)))
    assert csv_r.status_code == 200 and len(rows) - 1 == stack["summary"]["sample_records"]
    assert json_r.status_code == 200
    assert len(json_r.json()["items"]) == stack["summary"]["sample_records"]
    assert json_r.json()["next_cursor"] is None
    sheet = load_workbook(io.BytesIO(xlsx_r.content), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:3] == ("kode_wilayah", "nama_wilayah", "periode")
    assert len(table) - 1 == stack["summary"]["sample_records"]
    assert all(row[1] for row in table[1:])  # every region has its name
    assert len(page.json()["items"]) == 5 and page.json()["next_cursor"]
    assert missing.status_code == 404


async def _apply(stack, values: list[tuple[str, int]]):
    async with stack["pool"].acquire() as conn, conn.transaction():
        rows = [{"region": code, "period": "2024", "jenis_kelamin": "L", "jumlah": v}
                for code, v in values]
        await registry_apply.apply_rows(conn, dataset_slug=SLUG, publisher_id="disdukcapil",
                                          rows=rows)


async def test_change_feed_is_resumable_and_in_order(stack):
    async with httpx.AsyncClient(base_url=stack["url"]) as client:
        first = (await client.get("/v1/changes", params={"since": 0, "limit": 100})).json()
        second = (await client.get("/v1/changes",
                                   params={"since": first["next"], "limit": 100})).json()
    seqs = [i["seq"] for i in first["items"] + second["items"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) == 200


async def _read_events(url: str, headers: dict, want: int, params=None,
                       started: asyncio.Event | None = None) -> list[tuple[int, dict]]:
    got: list[tuple[int, dict]] = []
    async with httpx.AsyncClient(base_url=url, timeout=None) as client:
        async with client.stream("GET", "/v1/events", headers=headers, params=params) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            event_id = None
            async for line in r.aiter_lines():
                if line.startswith(": mulai") and started is not None:
                    started.set()  # the stream knows where it starts: changes from now on
                elif line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("data: "):
                    got.append((event_id, json.loads(line[6:])))
                    if len(got) >= want:
                        return got
    return got


async def test_events_stream_live_changes_and_resume_from_last_event_id(stack):
    async with httpx.AsyncClient(base_url=stack["url"]) as client:
        head = (await client.get("/v1/changes", params={"since": 0, "limit": 1000})).json()
    started = asyncio.Event()
    reader = asyncio.create_task(_read_events(stack["url"], {}, 2, started=started))
    await asyncio.wait_for(started.wait(), 10)
    async with stack["pool"].acquire() as conn:
        desa = await conn.fetch("SELECT code FROM regions WHERE level = 'desa' ORDER BY code "
                                "LIMIT 2")
    await _apply(stack, [(desa[0]["code"], 1111), (desa[1]["code"], 2222)])
    live = await asyncio.wait_for(reader, 10)
    assert [e[1]["values"]["jumlah"] for e in live] == [1111, 2222]
    assert head["next"] < live[0][0] < live[1][0]
    resumed = await asyncio.wait_for(
        _read_events(stack["url"], {"Last-Event-ID": str(live[0][0])}, 1), 10)
    assert resumed[0][0] == live[1][0]


async def test_ckan_read_api_with_the_real_ckanapi_client(stack):
    def drive():
        ckan = ckanapi.RemoteCKAN(stack["url"])
        names = ckan.action.package_list()
        pkg = ckan.action.package_show(id=SLUG)
        found = ckan.action.package_search(q="penduduk", rows=5,
                                           **{"facet.field": '["organization","tags"]'})
        none = ckan.action.package_search(q="tidakadayangcocok")
        orgs = ckan.action.organization_list()
        rows = ckan.action.datastore_search(resource_id=SLUG, limit=3, offset=2,
                                            filters={"jenis_kelamin": "P"})
        try:
            ckan.action.package_show(id="tidak-ada")
            missing = None
        except ckanapi.NotFound as exc:
            missing = exc
        return names, pkg, found, none, orgs, rows, missing

    names, pkg, found, none, orgs, rows, missing = await asyncio.to_thread(drive)
    assert names == [SLUG]
    assert pkg["name"] == SLUG and pkg["organization"]["name"] == "disdukcapil"
    assert {r["format"] for r in pkg["resources"]} == {"CSV", "XLSX"}
    assert found["count"] == 1 and found["facets"]["organization"] == {"disdukcapil": 1}
    assert none["count"] == 0
    assert "disdukcapil" in orgs and "walidata" in orgs
    assert rows["total"] == stack["summary"]["sample_records"] // 2 and len(rows["records"]) == 3
    assert all(r["jenis_kelamin"] == "P" for r in rows["records"])
    assert rows["offset"] == 2
    assert missing is not None


async def test_ckanapi_sort_lookups_region_search_and_typed_errors(stack):
    def drive():
        ckan = ckanapi.RemoteCKAN(stack["url"])
        out = {
            "desc": ckan.action.datastore_search(resource_id=SLUG, sort="jumlah desc", limit=5),
            "asc": ckan.action.datastore_search(resource_id=SLUG, sort="jumlah asc", limit=5,
                                                offset=1),
            "by_name": ckan.action.datastore_search(resource_id=SLUG, q="sangatta utara",
                                                    limit=1000),
            "packages": ckan.action.package_search(sort="name desc"),
            "org": ckan.action.organization_show(id="disdukcapil"),
            "resource": ckan.action.resource_show(id=f"{SLUG}-xlsx"),
            "tags": ckan.action.tag_list(), "groups": ckan.action.group_list(),
            "status": ckan.action.status_show(),
        }
        for name, call in [("org", lambda: ckan.action.organization_show(id="tidak-ada")),
                           ("resource", lambda: ckan.action.resource_show(id="tidak-ada")),
                           ("sort", lambda: ckan.action.datastore_search(
                               resource_id=SLUG, sort="bukan_kolom desc")),
                           ("key", lambda: ckanapi.RemoteCKAN(
                               stack["url"], apikey="kunci-salah").action.package_list())]:
            try:
                call()
            except ckanapi.CKANAPIError as exc:
                out[f"{name}_error"] = exc
        return out

    out = await asyncio.to_thread(drive)
    values = [r["jumlah"] for r in out["desc"]["records"]]
    assert values == sorted(values, reverse=True) and len(values) == 5
    every = [r["jumlah"] for r in (await asyncio.to_thread(
        lambda: ckanapi.RemoteCKAN(stack["url"]).action.datastore_search(
            resource_id=SLUG, limit=10_000)))["records"]]
    assert values[0] == max(every)
    assert [r["jumlah"] for r in out["asc"]["records"]] == sorted(every)[1:6]
    by_name = out["by_name"]["records"]
    assert by_name and all("sangatta utara" in r["region_name"].lower() for r in by_name)
    assert out["packages"]["sort"] == "name desc" and out["packages"]["count"] >= 1
    assert out["org"]["name"] == "disdukcapil" and out["org"]["is_organization"] is True
    assert out["resource"]["format"] == "XLSX" and out["resource"]["package_id"] == SLUG
    assert out["tags"] and out["groups"] and out["status"]["ckan_version"].startswith("2.")
    assert isinstance(out["org_error"], ckanapi.NotFound)
    assert isinstance(out["resource_error"], ckanapi.NotFound)
    assert isinstance(out["sort_error"], ckanapi.ValidationError)
    assert isinstance(out["key_error"], ckanapi.NotAuthorized)


async def test_dcat_catalogue_lists_every_dataset_with_downloads(stack):
    async with httpx.AsyncClient(base_url=stack["url"]) as client:
        response = await client.get("/catalog.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    catalog = response.json()
    assert catalog["@type"] == "dcat:Catalog" and "dcat" in catalog["@context"]
    [dataset] = catalog["dcat:dataset"]
    assert dataset["dct:identifier"] == SLUG and dataset["dct:publisher"]["foaf:name"]
    formats = {d["dct:format"]: d["dcat:downloadURL"] for d in dataset["dcat:distribution"]}
    assert set(formats) == {"CSV", "XLSX"} and formats["CSV"].endswith("format=csv")
    assert dataset["dct:accrualPeriodicity"].endswith("/ANNUAL")
FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"klik\")", "+cmd|' /C calc'!A0", "@SUM(A1)",
            "-2+3", "\tlihat", "\rx"]


async def _notes_dataset(stack) -> None:
    """A dataset with free text where a desa could type a formula, a ratio and a signed count."""
    async with stack["pool"].acquire() as conn, conn.transaction():
        await registry_datasets.create_dataset(conn, dataset_payload(
            "catatan-desa", schema={
                "dimensions": [{"name": "keterangan", "label": "Keterangan", "values": {}}],
                "measures": [{"name": "rasio", "label": "Rasio", "type": "decimal"},
                             {"name": "selisih", "label": "Selisih", "min": -100},
                             {"name": "catatan", "label": "Catatan", "type": "text"}]}))
        outcome = await registry_apply.apply_rows(
            conn, dataset_slug="catatan-desa", publisher_id="walidata",
            rows=[{"region": "64.08.04.2001", "period": "2024", "keterangan": text,
                   "rasio": 55.5, "selisih": -5, "catatan": text} for text in FORMULAS])
        assert outcome.counts.created == len(FORMULAS), outcome.rejected


def _number_or_safe(cell: str) -> bool:
    if not cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        return True
    try:
        float(cell.replace(",", "."))
        return True  # a negative number stays a number
    except ValueError:
        return False


async def test_exports_open_in_indonesian_excel_and_hold_no_formula(stack):
    await _notes_dataset(stack)
    url = "/v1/datasets/catatan-desa/records"
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        indo = await client.get(url, params={"format": "csv", "locale": "id"})
        plain = await client.get(url, params={"format": "csv"})
        xlsx_r = await client.get(url, params={"format": "xlsx"})
        wrong = await client.get(url, params={"format": "csv", "locale": "fr"})
    assert indo.status_code == 200 and indo.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(indo.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["kode_wilayah", "nama_wilayah", "periode", "keterangan", "rasio",
                       "selisih", "catatan", "versi", "diperbarui", "status_verifikasi",
                       "wilayah_berlaku_mulai", "wilayah_tidak_berlaku_sejak"]
    assert len(rows) == len(FORMULAS) + 1
    assert {(r[0], r[4], r[5]) for r in rows[1:]} == {("64.08.04.2001", "55,5", "-5")}
    assert all(r[1] for r in rows[1:])  # the region's name
    assert all(_number_or_safe(cell) for r in rows for cell in r)
    assert {r[6] for r in rows[1:]} == {"'" + f for f in FORMULAS}
    plain_rows = list(csv.reader(io.StringIO(plain.text)))
    assert not plain.content.startswith("\ufeff".encode())
    assert {(r[4], r[5]) for r in plain_rows[1:]} == {("55.5", "-5")}
    assert all(_number_or_safe(cell) for r in plain_rows for cell in r)
    assert wrong.status_code == 422
    sheet = load_workbook(io.BytesIO(xlsx_r.content)).active
    table = list(sheet.iter_rows())
    assert [c.value for c in table[0]][:3] == ["kode_wilayah", "nama_wilayah", "periode"]
    assert all(c.data_type != "f" for r in table for c in r)
    # the text itself, as text (XML reads a lone CR back as a line feed)
    assert {r[6].value for r in table[1:]} == {f.replace("\r", "\n") for f in FORMULAS}
    assert {(r[4].value, r[5].value) for r in table[1:]} == {(55.5, -5)}


async def test_retraction_through_the_gateway_hides_from_catalogue_ckan_and_exports(stack):
    keys = stack["summary"]["keys"]
    walidata = {"Authorization": f"Bearer {keys['SATUDATA_KEY_WALIDATA']}"}
    opd = {"Authorization": f"Bearer {keys['SATUDATA_KEY_OPD']}"}
    desa = {"Authorization": f"Bearer {keys['SATUDATA_KEY_DESA']}"}
    async with httpx.AsyncClient(base_url=stack["url"], timeout=30) as client:
        record = (await client.get(f"/v1/datasets/{SLUG}/records",
                                   params={"limit": 1})).json()["items"][0]
        reason = {"reason": "Angka tertukar antarjenis kelamin"}
        r = await client.post(f"/v1/records/{record['id']}/retract", json=reason, headers=desa)
        assert r.status_code == 403
        r = await client.post(f"/v1/records/{record['id']}/retract", json=reason, headers=opd)
        assert r.status_code == 200 and r.json()["status"] == "retracted"
        csv_r = await client.get(f"/v1/datasets/{SLUG}/records", params={"format": "csv"})
        assert len(csv_r.text.strip().splitlines()) - 1 == stack["summary"]["sample_records"] - 1
        r = await client.post(f"/v1/datasets/{SLUG}/retract", json=reason, headers=opd)
        assert r.status_code == 403
        r = await client.post(f"/v1/datasets/{SLUG}/retract", json=reason, headers=walidata)
        assert r.status_code == 200, r.text
        assert (await client.get("/v1/datasets")).json()["count"] == 0
        for fmt in ("csv", "xlsx", "json"):
            r = await client.get(f"/v1/datasets/{SLUG}/records", params={"format": fmt})
            assert r.status_code == 410 and reason["reason"] in r.json()["error"]["message"]
        r = await client.get(f"/v1/records/{record['id']}")
        assert r.status_code == 410
        ckan = (await client.get("/api/3/action/package_list")).json()
        assert ckan["success"] and SLUG not in ckan["result"]
        shown = await client.get("/api/3/action/package_show", params={"id": SLUG})
        assert shown.status_code == 404 and shown.json()["success"] is False
        assert shown.json()["error"]["__type"] == "Not Found Error"
        assert reason["reason"] in shown.json()["error"]["message"]
        r = await client.post(f"/v1/datasets/{SLUG}/restore", headers=walidata)
        assert r.status_code == 200
        assert SLUG in (await client.get("/api/3/action/package_list")).json()["result"]


async def test_satu_data_indonesia_harvests_everything_then_what_changed(stack):
    """ckanext-harvest's CKAN harvester, as it asks: package_search with rows=100, start,
    sort=id asc and fq=metadata_modified:[<last run - 1 h> TO *]; it uses the results without
    package_show. A dataset's metadata_modified moves when its data change."""
    def harvest(since: str | None = None) -> list[dict]:
        ckan = ckanapi.RemoteCKAN(stack["url"])
        fq = f"metadata_modified:[{since} TO *]" if since else ""
        found, start = [], 0
        while True:
            page = ckan.action.package_search(rows=100, start=start, sort="id asc", fq=fq)
            found += page["results"]
            start += 100
            if start >= page["count"]:
                return found

    everything = await asyncio.to_thread(harvest)
    ids = [p["id"] for p in everything]
    assert ids == sorted(ids) and SLUG in ids
    assert all(p["resources"] for p in everything)  # usable without package_show
    before = next(p for p in everything if p["id"] == SLUG)["metadata_modified"]
    since = (datetime.fromisoformat(before.replace("Z", "+00:00")) + timedelta(microseconds=1)
             ).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert SLUG not in [p["id"] for p in await asyncio.to_thread(harvest, since)]
    async with stack["pool"].acquire() as conn:
        desa = await conn.fetchval("SELECT code FROM regions WHERE level = 'desa' ORDER BY code "
                                   "LIMIT 1")
    await _apply(stack, [(desa, 4321)])

    async def changed():
        return SLUG in [p["id"] for p in await asyncio.to_thread(harvest, since)]
    await eventually(changed, timeout=15)
    async with httpx.AsyncClient(base_url=stack["url"]) as client:
        bad = await client.get("/api/3/action/package_search",
                               params={"fq": "metadata_modified:[kemarin TO *]"})
    assert bad.status_code == 400 and bad.json()["error"]["__type"] == "Validation Error"
