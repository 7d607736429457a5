"""The public portal in a real headless Chromium (Debian's package, driven by Playwright),
against the whole platform running as processes: the page loads, a search returns results, a
chart renders, downloads work, a new value appears without a reload, and it fits a phone.
Screenshots land in tests/artifacts/ (gitignored)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from playwright.async_api import expect

from services.registry.datasets import service as registry_datasets
from services.registry.publishing import apply as registry_apply
from services.registry.regions import store as registry_regions
from shared.db import create_pool
from tests.e2e.harness import start_platform, stop_platform
from tests.helpers import dataset_payload, eventually
from tests.integration.gateway.test_statistical_metadata_downstream import FORMS
from tests.integration.ingest.test_opensid import PEOPLE as OPENSID_PEOPLE
from tests.integration.ingest.test_opensid import SLUG as OPENSID_SLUG
from tests.integration.ingest.test_opensid import _export as opensid_export

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLUG = "jumlah-penduduk"
BULK = "penduduk-kelompok-umur"
RATIO = "rasio-murid-guru"
AGES = ["0-4", "5-14", "15-24", "25-44", "45-64", "65+"]
FULL_YEARS = [str(y) for y in range(2019, 2025)]

if not shutil.which(CHROMIUM):
    # `make test` installs Debian's chromium where it may; in CI a missing browser is a failure,
    # not a silent skip of the portal's only browser test.
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing in CI: apt-get install -y chromium")
    pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium", allow_module_level=True)


@pytest.fixture(scope="module")
async def platform(pg_server_url, nats_url):
    # one browser on 127.0.0.1 makes many calls (instant search while polling for the index)
    running = await start_platform(pg_server_url, nats_url, sample_values=True,
                                   extra_env={"GATEWAY_RATE_LIMIT_ADDRESS": "100000/minute"})
    yield running
    await stop_platform(running)


@pytest.fixture(scope="module")
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(accept_downloads=True, locale="id-ID")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: errors.append(f"outside request {req.url}")
            if not req.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    page.errors = errors
    yield page
    await context.close()


def shot(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / f"portal-{name}.png")


async def test_search_returns_results_with_facets(platform, page):
    await page.goto(platform.gateway + "/")
    assert "Satu Data" in await page.title()
    await page.fill("#q", "penduduk")

    async def results():
        await page.fill("#q", "")
        await page.fill("#q", "penduduk")
        await page.wait_for_selector("li.result", timeout=3000)
        return await page.locator("li.result").count()

    assert await eventually(results, timeout=30, interval=0.5)  # search indexes from NATS
    assert await page.locator("#facets button").count() > 0
    await page.screenshot(path=shot("search"), full_page=True)
    # nothing matches a misspelt word: the answer says so and offers the known word
    await page.fill("#q", "pnddk")
    await expect(page.locator("#suggested")).to_have_text("Cari “penduduk”", timeout=10000)
    assert "Maksud Anda" in await page.locator("#note").inner_text()
    await page.click("#suggested")
    await expect(page.locator("#q")).to_have_value("penduduk")
    await expect(page.locator("li.result").first).to_be_visible()
    await expect(page.locator("#note")).to_be_empty()
    assert page.errors == []


async def test_dataset_page_has_table_chart_metadata_and_downloads(platform, page, tmp_path):
    await page.goto(f"{platform.gateway}/#/dataset/{SLUG}")
    await page.wait_for_selector("#chart svg rect.bar", timeout=15000)
    assert await page.locator("#chart svg rect.bar").count() > 1
    assert await page.locator("#table tbody tr").count() > 10
    assert await page.locator("#updated").inner_text() != ""
    assert "Dinas Kependudukan" in await page.locator("dl.meta").first.inner_text()
    # the period broken down by sex: one server total each, in Indonesian digits
    period = await page.locator("#period").input_value()
    bars = page.locator("#breakdown svg g[data-label]")
    await expect(bars).to_have_count(2)
    async with platform.client() as client:
        for code, label in (("L", "Laki-laki"), ("P", "Perempuan")):
            want = (await client.get("/v1/aggregates", params={
                "dataset": SLUG, "period": period, "jenis_kelamin": code})).json()
            total = want["periods"][0]["values"]["jumlah"]
            text = await page.locator(f'#breakdown g[data-label="{label}"]').text_content()
            assert f"{total:,}".replace(",", ".") in text, (label, total, text)
    # the map of the regency's kecamatan (sample boundaries, contoh), one area each
    async with platform.client() as client:
        districts = [r for r in (await client.get("/v1/regions")).json()["items"]
                     if r["level"] == "kecamatan" and not r.get("valid_until")]
    await expect(page.locator("#dmapbox path.area")).to_have_count(len(districts))
    await expect(page.locator("#dmapbox #rmap-sample")).to_contain_text("contoh")
    # BPS statistical metadata: first the Perpres 39 keys (incomplete, saying what is missing)
    forms = page.locator("#ms")
    await expect(forms.locator("#ms-complete")).to_contain_text("Belum lengkap")
    await expect(forms.locator("#ms-complete")).to_contain_text("Desain sampel")
    assert "Dinas Kependudukan" in await forms.locator("dl.meta").first.inner_text()
    await page.screenshot(path=shot("dataset"), full_page=True)

    async with page.expect_download() as info:
        await page.click("#dl-csv")
    csv_path = tmp_path / "export.csv"
    await (await info.value).save_as(csv_path)
    rows = list(csv.reader(io.StringIO(csv_path.read_text())))
    assert rows[0][:3] == ["kode_wilayah", "nama_wilayah", "periode"] and len(rows) > 100

    async with page.expect_download() as info:
        await page.click("#dl-xlsx")
    xlsx_path = tmp_path / "export.xlsx"
    await (await info.value).save_as(xlsx_path)
    sheet = load_workbook(xlsx_path, read_only=True).active
    assert sum(1 for _ in sheet.iter_rows()) == len(rows)

    # its producer submits the forms, the walidata verifies them: the page shows them whole
    url = f"/v1/datasets/{SLUG}/statistical-metadata"
    async with platform.client() as client:
        r = await client.put(url, headers=platform.auth("OPD"), json=FORMS)
        assert r.status_code == 201, r.text
        r = await client.post(f"{url}/versions/{r.json()['version']}/verify",
                              headers=platform.auth("WALIDATA"), json={})
        assert r.status_code == 200, r.text
    await page.reload()
    await expect(forms.locator("#ms-complete")).to_have_text("Lengkap.")
    text = await forms.inner_text()
    assert "Kompilasi produk administrasi" in text and "Level estimasi terendah" in text
    assert "MS-Indikator: Jumlah penduduk" in text
    async with page.expect_download() as info:
        await forms.locator("a[download]").click()
    workbook = tmp_path / "forms.xlsx"
    await (await info.value).save_as(workbook)
    assert load_workbook(workbook).sheetnames == ["MS-Kegiatan", "MS-Indikator jumlah"]
    assert page.errors == []


async def test_new_value_appears_without_reload(platform, page):
    await page.goto(f"{platform.gateway}/#/dataset/{SLUG}")
    await page.wait_for_selector("#table tbody tr", timeout=15000)
    await page.wait_for_selector("#live.on", timeout=10000)
    first = page.locator("#table tbody tr").first
    code = await first.locator("td").first.inner_text()
    # a new value enters through the registry (the path every import takes), then the gateway
    # hears of it over NATS and the page's EventSource brings it in
    # a plausible value (the current one plus one): a far-off one would be held for the
    # walidata as an outlier, not published
    pool = await create_pool(platform.database_url, "registry")
    try:
        async with pool.acquire() as conn, conn.transaction():
            current = await conn.fetchval(
                """SELECT (r.vals->>'jumlah')::bigint FROM records r
                   JOIN datasets d ON d.id = r.dataset_id
                   WHERE d.slug = $1 AND r.region_code = $2 AND r.period = '2023'
                     AND r.dims->>'jenis_kelamin' = 'L'""", SLUG, code)
            value = (current or 1000) + 1
            outcome = await registry_apply.apply_rows(
                conn, dataset_slug=SLUG, publisher_id="disdukcapil",
                rows=[{"region": code, "period": "2023", "jenis_kelamin": "L",
                       "jumlah": value}])
            assert outcome.counts.updated + outcome.counts.created == 1
    finally:
        await pool.close()
    shown = f"{value:,}".replace(",", ".")
    await page.wait_for_selector(f"td.num:has-text('{shown}')", timeout=15000)
    await page.screenshot(path=shot("live-update"), full_page=True)


async def test_region_pages_drill_down(platform, page):
    await page.goto(f"{platform.gateway}/#/wilayah")
    await page.wait_for_selector("ul.children a", timeout=15000)
    await page.locator("ul.children a").first.click()
    await page.wait_for_selector("h1:has-text('kecamatan')", timeout=15000)
    await page.locator("ul.children a").first.click()
    await page.wait_for_selector("h1:has-text('desa'), h1:has-text('kelurahan')", timeout=15000)
    await page.wait_for_selector("#regiondata #totals li", timeout=15000)
    await page.screenshot(path=shot("region"), full_page=True)


async def test_a_map_waits_for_its_stylesheet_and_never_widens_the_page(platform, browser):
    """Leaflet's stylesheet arriving after its script (held back 1.5 s here): the map is drawn
    only once both are in, so the page never overflows (a map drawn before leaflet.css
    applied made it 123,047 px wide at 1366, once in a make test run)."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    widths: list[int] = []

    async def late_css(route):
        await asyncio.sleep(1.5)
        await route.continue_()
    await page.route("**/vendor/leaflet/leaflet.css", late_css)
    await page.goto(f"{platform.gateway}/wilayah/64.08.04?dataset={SLUG}&period=2023")
    await expect(page.locator("#rchildren tbody tr").first).to_be_visible(timeout=15000)
    for _ in range(30):  # every 0.1 s while the stylesheet is held back and after
        widths.append(await page.evaluate("document.documentElement.scrollWidth"))
        await asyncio.sleep(0.1)
    await expect(page.locator("#rmap path.area").first).to_be_attached(timeout=15000)
    widths.append(await page.evaluate("document.documentElement.scrollWidth"))
    assert max(widths) <= 1366, widths
    await context.close()


@pytest.mark.parametrize("width", [1366, 390])
async def test_a_region_map_colours_each_child_by_the_tables_figure(platform, browser, width):
    """A kecamatan's villages on a map (Leaflet, vendored, no tiles) from the generated sample
    boundaries (contoh, said so under it): one area per row of the table, each in the legend
    class holding the table's figure, the legend in Indonesian digits, inside a phone."""
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{platform.gateway}/wilayah/64.08.04?dataset={SLUG}&period=2023")
    rows = page.locator("#rchildren tbody tr")
    await expect(rows.first).to_be_visible(timeout=15000)
    areas = page.locator("#rmap path.area")
    await expect(areas).to_have_count(await rows.count(), timeout=15000)
    legend = {li["bucket"]: li for li in await page.locator("#rlegend li").evaluate_all(
        "items => items.map(i => ({bucket: i.dataset.bucket, min: i.dataset.min, "
        "max: i.dataset.max, text: i.textContent}))")}
    assert {"suppressed", "none"} <= set(legend) and "q0" in legend
    checked = 0
    for row in await rows.evaluate_all(
            "rows => rows.map(r => ({href: r.querySelector('a').getAttribute('href'), "
            "value: r.querySelectorAll('td')[1].textContent.trim()}))"):
        code = row["href"].split("/wilayah/")[1].split("?")[0]
        classes = (await page.locator(f"#rmap path.code-{code.replace('.', '_')}")
                   .get_attribute("class")).split()
        if row["value"] == "disembunyikan":
            assert "suppressed" in classes, (code, classes)
            continue
        figure = int(row["value"].replace(".", ""))  # the table's Indonesian digits
        [bucket] = [c for c in classes if c in legend]
        assert float(legend[bucket]["min"]) <= figure <= float(legend[bucket]["max"]), (
            code, figure, legend[bucket])
        checked += 1
    assert checked >= 3  # Sangatta Utara's four villages, small counts aside
    top = legend[max(b for b in legend if b.startswith("q"))]
    assert f"{int(float(top['max'])):,}".replace(",", ".") in top["text"]  # 1.234, not 1,234
    await expect(page.locator("#rmap-sample")).to_contain_text("contoh")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await page.screenshot(path=shot(f"map-{width}"), full_page=True)
    assert errors == []
    await context.close()


async def test_completeness_page_and_phone_layout(platform, browser):
    context = await browser.new_context(viewport={"width": 390, "height": 844},
                                        device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/#/kelengkapan?dataset={SLUG}&period=2023")
    await page.wait_for_selector("#cresult .summary, #cresult .error", timeout=15000)
    await page.screenshot(path=shot("completeness-phone"), full_page=True)
    await page.goto(f"{platform.gateway}/#/dataset/{SLUG}")
    await page.wait_for_selector("#chart svg rect.bar", timeout=15000)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400  # no sideways scrolling: the wide table scrolls inside its box
    await page.screenshot(path=shot("dataset-phone"), full_page=False)
    await context.close()


async def test_portal_assets_are_served_by_the_gateway(platform):
    async with httpx.AsyncClient(base_url=platform.gateway) as client:
        html = (await client.get("/")).text
        for asset in ("/portal/app.js", "/portal/style.css", "/docs-assets/swagger-ui.css"):
            assert (await client.get(asset)).status_code == 200
    # nothing from outside: the only absolute URL is the page's own canonical address
    assert [u for u in re.findall(r'(?:src|href|content)="(https?://[^"]*)"', html)
            if not u.startswith(platform.gateway)] == []


@pytest.fixture(scope="module")
async def bulk(platform):
    """More than 10,000 records through the registry's own import path (one COPY-based
    apply per year), a partial latest year, and a dataset with a ratio."""
    pool = await create_pool(platform.database_url, "registry")
    try:
        async with pool.acquire() as conn:
            units = [r.code for r in await registry_regions.load_regions(conn)
                     if r.level in ("desa", "kelurahan")]
            async with conn.transaction():
                await registry_datasets.create_dataset(conn, dataset_payload(
                    BULK, title="Penduduk menurut Kelompok Umur (data contoh)",
                    metadata={"satuan": "jiwa"}, schema={
                        "dimensions": [
                            {"name": "jenis_kelamin", "label": "Jenis kelamin",
                             "values": {"L": "Laki-laki", "P": "Perempuan"}},
                            {"name": "kelompok_umur", "label": "Kelompok umur",
                             "values": {a: a for a in AGES}}],
                        "measures": [{"name": "jumlah", "label": "Jumlah penduduk",
                                      "unit": "jiwa", "additive": True}]}))
                await registry_datasets.create_dataset(conn, dataset_payload(
                    RATIO, title="Murid, guru dan rasio murid per guru (data contoh)", schema={
                        "measures": [
                            {"name": "murid", "label": "Jumlah murid", "additive": True},
                            {"name": "guru", "label": "Jumlah guru", "additive": True},
                            {"name": "rasio", "label": "Rasio murid per guru",
                             "type": "decimal"}]}))
            total = 0
            for year, codes in [(y, units) for y in FULL_YEARS] + [("2025", units[:3])]:
                rows = [{"region": code, "period": year, "jenis_kelamin": sex,
                         "kelompok_umur": age, "jumlah": (i * 7 + len(age) * 13 + int(year)) % 900 + 1}
                        for i, code in enumerate(codes) for sex in "LP" for age in AGES]
                async with conn.transaction():
                    outcome = await registry_apply.apply_rows(
                        conn, dataset_slug=BULK, publisher_id="walidata", rows=rows)
                total += outcome.counts.created
            async with conn.transaction():
                await registry_apply.apply_rows(conn, dataset_slug=RATIO,
                                                  publisher_id="walidata", rows=[
                    {"region": "64.08.04.2001", "period": "2024", "murid": 555, "guru": 10,
                     "rasio": 55.5},
                    {"region": "64.08.04.2011", "period": "2024", "murid": 300, "guru": 20,
                     "rasio": 15}])
    finally:
        await pool.close()
    assert total > 10_000
    return total


def indonesian(value: int) -> str:
    return f"{value:,}".replace(",", ".")


@pytest.mark.parametrize("width", [1366, 390])
async def test_kabupaten_page_lists_server_totals_and_labels_the_partial_period(
        platform, bulk, browser, width):
    async with platform.client() as client:
        agg = (await client.get("/v1/aggregates", params={"dataset": BULK})).json()
    assert [p["period"] for p in agg["periods"]] == [*FULL_YEARS, "2025"]
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    calls: list[str] = []
    errors: list[str] = []
    page.on("request", lambda req: calls.append(req.url) if "/v1/" in req.url else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{platform.gateway}/#/wilayah/64.08?dataset={BULK}")
    await page.wait_for_selector("#totals li", timeout=15000)
    shown = {}
    for li in await page.locator("#totals li").all():
        shown[await li.get_attribute("data-period")] = (
            await li.locator("strong.total").inner_text(), await li.get_attribute("class"),
            await li.inner_text())
    assert set(shown) == {p["period"] for p in agg["periods"]}
    for p in agg["periods"]:
        text, css, line = shown[p["period"]]
        assert text == f"{indonesian(p['value'])} jiwa"  # the server's total, as text
        if p["period"] == "2025":
            assert css == "partial"
            assert f"baru 3 dari {p['expected']} desa melapor" in line
        else:
            assert p["complete"] and css == "" and "melapor" not in line
    # it opens on the latest period with at least 80 % reporting, not on the partial one
    assert await page.locator("#rperiod").input_value() == "2024"
    assert await page.locator("#rchildren tbody tr").count() == 18
    assert sum(1 for u in calls if "/v1/aggregates" in u) <= 2
    assert not [u for u in calls if "/records" in u]  # no sums of raw records in the browser
    assert await page.evaluate("document.documentElement.scrollWidth") <= width + 10
    await page.screenshot(path=shot(f"kabupaten-{width}"), full_page=True)
    # choosing the partial year says so next to its figures, and the map is drawn again
    # for it (Leaflet loaded by now: its window.leaflet once replaced the portal's loader)
    map_caption = page.locator(".mapfig figcaption")
    await expect(map_caption).to_contain_text("periode 2024", timeout=15000)
    await page.select_option("#rperiod", "2025")
    assert "baru 3 dari" in await page.locator("#rnote").inner_text()
    await expect(map_caption).to_contain_text("periode 2025", timeout=15000)
    assert errors == []
    await context.close()


@pytest.mark.parametrize("width", [1366, 390])
async def test_kecamatan_page_never_sums_a_ratio(platform, bulk, browser, width):
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/#/wilayah/64.08.04?dataset={RATIO}")
    await page.wait_for_selector("#rvalues tbody tr", timeout=15000)
    values = await page.locator("#rvalues").inner_text()
    assert "55,5" in values and "15" in values
    assert "Rasio" not in await page.locator("#totals").inner_text()
    assert "30" in await page.locator("#totals").inner_text()  # guru: 10 + 20, summed
    body = await page.locator("main").inner_text()
    assert "70,5" not in body and "35,25" not in body  # neither a sum nor a mean of the ratio
    assert "baru 2 dari" in body  # two villages of the kecamatan reported
    await page.screenshot(path=shot(f"kecamatan-ratio-{width}"), full_page=True)
    await context.close()


async def test_a_village_sends_its_opensid_export_from_kirim(platform, page, browser, tmp_path):
    """OpenSID's population export (the sync zip, generated sample people, contoh) uploaded on
    /kirim: the dry run shows OpenSID's counts and the rows it would send, then the same file
    is submitted and the village's counts are what the file holds."""
    walidata = platform.auth("WALIDATA")
    async with platform.client() as client:
        village = next(c["code"] for c in (await client.get("/v1/regions/64.08.04")).json()[
            "children"] if c["code"] != "64.08.04.2001")  # not the development key's village
        for path, body in (
                ("/v1/datasets", dataset_payload(OPENSID_SLUG, title="Penduduk per kelompok umur "
                                                 "(OpenSID, data contoh)", schema={"dimensions": [
                    {"name": "jenis_kelamin", "label": "Jenis kelamin",
                     "values": {"L": "Laki-laki", "P": "Perempuan"}},
                    {"name": "kelompok_umur", "label": "Kelompok umur"}],
                    "measures": [{"name": "jumlah", "label": "Jumlah", "additive": True}]})),
                ("/v1/publishers", {"id": f"desa-{village}", "name": "Desa contoh OpenSID",
                                    "kind": "desa", "region_scope": village,
                                    "datasets": [OPENSID_SLUG]})):
            r = await client.post(path, json=body, headers=walidata)
            assert r.status_code == 201, r.text
        r = await client.post("/v1/keys", headers=walidata, json={"publisher_id": f"desa-{village}"})
        assert r.status_code == 201, r.text
        key = r.json()["key"]
    export = tmp_path / "sinkronisasi-opensid.zip"
    export.write_bytes(opensid_export())
    await page.goto(f"{platform.gateway}/kirim?dataset={OPENSID_SLUG}")
    await page.fill("#key", key)
    await page.click("#keyform button")
    await expect(page.locator("#sdataset")).to_have_value(OPENSID_SLUG, timeout=15000)
    await page.set_input_files("#sfile", str(export))
    await page.click("#check")
    living = sum(1 for _, _, status in OPENSID_PEOPLE if status == 1)
    await expect(page.locator("#opensidcounts")).to_contain_text(
        f"{len(OPENSID_PEOPLE)} orang dibaca, {living} hidup dihitung", timeout=15000)
    await expect(page.locator("#dryrows")).to_contain_text("32 baris hitungan")  # 2 x 16 groups
    await page.click("#send")
    await expect(page.locator("#substate")).to_have_attribute("data-status", "completed",
                                                             timeout=30000)
    async with platform.client() as client:
        records = (await client.get(f"/v1/datasets/{OPENSID_SLUG}/records", params={
            "region": village, "limit": 100})).json()["items"]
    assert len(records) == 32 and sum(r["values"]["jumlah"] for r in records) == living
    assert page.errors == []
    # the walidata's desk shows the village's last sync
    context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
    desk = await context.new_page()
    await desk.goto(f"{platform.gateway}/verifikasi")
    await desk.fill("#k", platform.keys["SATUDATA_KEY_WALIDATA"])
    await desk.click("#key button")
    row = desk.locator("#desk-opensid tr", has_text=f"desa-{village}")
    await expect(row).to_contain_text("selesai", timeout=15000)
    await expect(row).to_contain_text(OPENSID_SLUG)
    await context.close()


async def test_village_operator_uploads_a_csv_through_the_portal(platform, page, tmp_path):
    """A desa operator with only a browser: key once, template, a dry run that names the bad
    row's file line, the fixed file sent for real, the status followed to the end."""
    await page.goto(f"{platform.gateway}/#/kirim")
    await page.fill("#key", platform.keys["SATUDATA_KEY_DESA"])
    await page.click("#keyform button")
    await page.wait_for_selector("#subhistory, #history p.muted:has-text('Belum')", timeout=15000)
    # only the datasets this key may write; ?dataset= (linked from /ketepatan) is chosen
    offered = await page.locator("#sdataset option").evaluate_all("os => os.map(o => o.value)")
    assert offered == [SLUG]
    await page.goto(f"{platform.gateway}/kirim?dataset={SLUG}")
    await page.wait_for_selector("#sdataset", timeout=15000)
    assert await page.locator("#sdataset").input_value() == SLUG
    async with page.expect_download() as info:
        await page.click("#template")
    template = tmp_path / "templat.xlsx"
    await (await info.value).save_as(template)
    filled = [[c.value for c in row] for row in load_workbook(template).active.iter_rows()]
    at = next(i for i, row in enumerate(filled) if "kode_wilayah" in row)
    assert filled[at][:3] == ["kode_wilayah", "nama_wilayah", "periode"]
    assert {row[0] for row in filled[at + 1:] if row[0]} == {"64.08.04.2001"}  # its village
    header = "region,period,jenis_kelamin,jumlah"

    desa = "64.08.04.2001"
    bad = tmp_path / "desa-2022.xlsx"  # first try in Excel, with one impossible value
    book = Workbook()
    book.active.title = "Penduduk"
    for row in (header.split(","), [desa, "2022", "L", 1111], [desa, "2022", "P", -5]):
        book.active.append(row)
    book.save(bad)
    await page.set_input_files("#sfile", str(bad))
    await page.click("#check")
    await page.wait_for_selector("#rejected tbody tr", timeout=15000)
    assert await page.locator("#rejected tbody tr").get_attribute("data-line") == "3"
    assert "Penduduk" in await page.locator("#rejected").inner_text()  # the sheet is named
    assert "belum disimpan" in await page.locator("#dryrun").inner_text()

    good = tmp_path / "desa-2022-benar.csv"
    good.write_text(f"{header}\n{desa},2022,L,1111\n{desa},2022,P,1005\n")
    await page.set_input_files("#sfile", str(good))
    await page.click("#check")
    await page.wait_for_selector("#no-rejected", timeout=15000)
    await page.click("#send")
    await page.wait_for_selector("#substate[data-status='completed']", timeout=30000)
    assert await page.locator("#sstatus .counts [data-count='created'] b").inner_text() == "2"
    await page.wait_for_selector("#subhistory tbody tr", timeout=15000)
    assert "desa-2022-benar.csv" in await page.locator("#subhistory").inner_text()
    await page.screenshot(path=shot("submit"), full_page=True)
    async with platform.client() as client:
        rows = (await client.get(f"/v1/datasets/{SLUG}/records",
                                 params={"region": desa, "period": "2022"})).json()["items"]
    assert sorted(r["values"]["jumlah"] for r in rows) == [1005, 1111]

    # a value breaking the walidata's rule: its message before sending, the note and the
    # signed receipt after
    async with platform.client() as client:
        r = await client.post(f"/v1/datasets/{SLUG}/rules", headers=platform.auth("WALIDATA"),
                              json={"expression": "jumlah <= 50000", "message":
                                    "Jumlah penduduk satu jenis kelamin di satu desa paling "
                                    "banyak 50.000; periksa lagi angkanya."})
        assert r.status_code == 201, r.text
        rule = r.json()["id"]
    try:
        odd = tmp_path / "desa-2020.csv"
        odd.write_text(f"{header}\n{desa},2020,L,60000\n")
        await page.set_input_files("#sfile", str(odd))
        await page.click("#check")
        await page.wait_for_selector("#held tbody tr", timeout=15000)
        assert "paling banyak 50.000" in await page.locator("#held").inner_text()
        await page.click("#send")
        await page.wait_for_selector("#heldnote", timeout=30000)
        assert "ditahan untuk verifikasi" in await page.locator("#heldnote").inner_text()
        async with page.expect_download() as info:
            await page.click("#receipt")
        receipt = json.loads((await (await info.value).path()).read_text())
        assert receipt["counts"]["held"] == 1 and receipt["signature"]["alg"] == "Ed25519"
    finally:
        async with platform.client() as client:
            await client.delete(f"/v1/datasets/{SLUG}/rules/{rule}",
                                headers=platform.auth("WALIDATA"))
    assert page.errors == []


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"  # axe-core 4.14, tests only
PAGES = [("/", "li.result, .cards .card"), (f"/dataset/{SLUG}", "#chart svg rect.bar"),
         (f"/wilayah/64.08.04?dataset={SLUG}", "#rmap path.area"),
         (f"/kelengkapan?dataset={SLUG}&period=2022", "#cchart svg rect.bar"),
         ("/kirim", "#keyform"), ("/verifikasi", "#key"), ("/permohonan", "#reqform")]


async def test_real_urls_titles_and_sitemap(platform):
    async with httpx.AsyncClient(base_url=platform.gateway) as client:
        page = await client.get(f"/dataset/{SLUG}")
        assert page.status_code == 200
        assert "<title>Jumlah Penduduk" in page.text
        assert '<link rel="canonical"' in page.text and f"/dataset/{SLUG}" in page.text
        region = await client.get("/wilayah/64.08.04")
        assert region.status_code == 200 and "<title>Kecamatan " in region.text
        assert (await client.get("/dataset/tidak-ada")).status_code == 404
        sitemap = await client.get("/sitemap.xml")
        assert sitemap.headers["content-type"].startswith("application/xml")
        assert f"/dataset/{SLUG}</loc>" in sitemap.text
        assert "/wilayah/64.08.04.2001</loc>" in sitemap.text


async def test_search_is_debounced_and_pages_on(platform, page):
    calls: list[str] = []
    page.on("request", lambda req: calls.append(req.url) if "/v1/search" in req.url else None)
    await page.goto(f"{platform.gateway}/?q=penduduk")
    await page.wait_for_selector("li.result", timeout=15000)
    first = await page.locator("li.result").count()
    await page.click("#more-results")
    await page.wait_for_function("n => document.querySelectorAll('li.result').length > n", arg=first)
    assert "cursor=" in calls[-1]
    calls.clear()
    await page.fill("#q", "")
    await page.locator("#q").press_sequentially("sangatta", delay=40)
    await page.wait_for_selector("li.result", timeout=15000)
    await page.wait_for_timeout(600)
    assert len(calls) == 1  # one request for the whole word, not one per key
    assert page.url.endswith("/?q=sangatta")
    # an old #/ link still opens its page, at its real URL
    await page.goto(f"{platform.gateway}/#/dataset/{SLUG}")
    await page.wait_for_selector("#chart svg rect.bar", timeout=15000)
    assert page.url.endswith(f"/dataset/{SLUG}")
    assert "Tahunan" in await page.locator("dl.meta").first.inner_text()
    assert "sample data" not in await page.locator("dl.meta").first.inner_text()
    assert "Jumlah Penduduk" in await page.title()
    assert page.errors == []


CHECKS = """() => {
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el.getClientRects().length) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    const svg = el.closest('svg');
    const scale = svg ? svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : 1;
    if (size * scale < 11.95) small.push(el.tagName + ':' + walker.currentNode.textContent.slice(0, 20));
  }
  const overlaps = [];
  for (const svg of document.querySelectorAll('.chart svg')) {
    const boxes = [...svg.querySelectorAll('g > text:first-of-type')].map((t) => t.getBoundingClientRect());
    boxes.forEach((a, i) => boxes.slice(i + 1).forEach((b) => {
      if (a.left < b.right && b.left < a.right && a.top < b.bottom - 1 && b.top < a.bottom - 1) overlaps.push(i);
    }));
  }
  return { width: document.documentElement.scrollWidth, small, overlaps };
}"""


@pytest.mark.parametrize("width", [1366, 390])
async def test_main_pages_pass_axe_and_fit_a_phone(platform, browser, width):
    # bypass_csp: only so the test can inject axe (the portal itself runs under the real CSP)
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="id-ID",
                                        bypass_csp=True)
    page = await context.new_page()

    async def axe_finds_nothing_serious(path: str) -> None:
        await page.add_script_tag(path=str(AXE))
        result = await page.evaluate(
            "() => axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert bad == [], (path, width, bad)

    for path, ready in PAGES:
        await page.goto(platform.gateway + path)
        await page.wait_for_selector(ready, timeout=15000)
        await axe_finds_nothing_serious(path)
        checks = await page.evaluate(CHECKS)
        assert checks["width"] <= width, (path, checks["width"])  # no page-level sideways scroll
        assert checks["small"] == [], (path, checks["small"][:5])  # text at least 12 px
        assert checks["overlaps"] == [], path  # chart labels never sit on each other
        if path.startswith("/kelengkapan"):
            text = await page.locator("main").inner_text()
            assert "Per kecamatan" in text and "belum melapor" in text
            assert await page.locator("#cwaiting tbody tr").count() > 0
            await page.screenshot(path=shot(f"completeness-{width}"), full_page=True)
        if width == 390 and path == "/":
            assert not await page.locator("#facetbox").evaluate("d => d.open")
    # the walidata's desk with everything on it: queue, a dataset's forms, metadata, Daftar Data
    await page.goto(platform.gateway + "/verifikasi")
    await page.fill("#k", platform.keys["SATUDATA_KEY_WALIDATA"])
    await page.click("#key button")
    await page.fill("#f-dataset", SLUG)
    await page.click("#filters button:not([type])")
    for ready in ("#policy-form", "#desk-audit", "#forms p", "#plan p, #desk-plan"):
        await page.wait_for_selector(ready, timeout=15000)
    await axe_finds_nothing_serious("/verifikasi (desk)")
    assert (await page.evaluate(CHECKS))["width"] <= width
    await context.close()


async def test_retired_region_is_marked_with_its_successor(platform, page):
    """Runs last: it adds a retired desa to the reference data."""
    async with platform.client() as client:
        r = await client.post("/v1/regions/import", headers=platform.auth("WALIDATA"), json={
            "rows": [{"code": "64.08.04.2999", "name": "Desa Lama Contoh", "level": "desa",
                      "parent_code": "64.08.04", "valid_until": "2024-01-01",
                      "successor_code": "64.08.04.2001"}]})
        assert r.status_code == 200, r.text
    await page.goto(f"{platform.gateway}/wilayah/64.08.04.2999")
    note = page.locator(".retired-note")
    await note.wait_for(timeout=15000)
    assert "tidak berlaku" in await note.inner_text()
    assert await note.locator("a").get_attribute("href") == "/wilayah/64.08.04.2001"


async def test_a_total_with_values_awaiting_the_walidata_says_so(platform, browser):
    """The page shows the server's total of verified values and notes how many newer
    values wait for the walidata, as /v1/aggregates says (never a figure of its own)."""
    slug = "contoh-menunggu-verifikasi"
    pool = await create_pool(platform.database_url, "registry")
    try:
        async with pool.acquire() as conn, conn.transaction():
            await registry_datasets.create_dataset(conn, dataset_payload(
                slug, title="Contoh nilai menunggu verifikasi (data contoh)"))
        async with platform.client() as client:
            r = await client.put(f"/v1/datasets/{slug}/verification-policy",
                                 headers=platform.auth("WALIDATA"), json={"policy": "verifikasi"})
            assert r.status_code == 200, r.text
        for value in (500, 700):  # the first is verified below, the second waits
            async with pool.acquire() as conn, conn.transaction():
                await registry_apply.apply_rows(conn, dataset_slug=slug, publisher_id="walidata",
                                                rows=[{"region": "64.08.04.2001", "period": "2024",
                                                       "jumlah": value}])
            if value == 500:
                async with platform.client() as client:
                    r = await client.post("/v1/verification/verify", json={"dataset": slug},
                                          headers=platform.auth("WALIDATA"))
                    assert r.status_code == 200, r.text
    finally:
        await pool.close()
    async with platform.client() as client:
        agg = (await client.get("/v1/aggregates", params={"dataset": slug})).json()
    [p] = agg["periods"]
    assert (p["value"], p["held"], p["verification_status"]) == (500, 1, "sedang_diverifikasi")
    context = await browser.new_context(locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/#/wilayah/64.08?dataset={slug}")
    await page.wait_for_selector("#totals li", timeout=15000)
    li = page.locator('#totals li[data-period="2024"]')
    assert await li.locator("strong.total").inner_text() == "500"
    assert await li.locator(".held-note").inner_text() == (
        "1 nilai sedang diverifikasi walidata; angka memakai nilai terverifikasi terakhir")
    await context.close()


@pytest.mark.parametrize("width", [1366, 390])
async def test_a_split_village_shows_its_successors_and_a_new_one_its_predecessor(
        platform, browser, width):
    """Runs after the retired region: a sample (contoh) village split on 2025-01-01."""
    async with platform.client() as client:
        if (await client.get("/v1/regions/64.08.04.2991")).status_code == 404:
            for rows in (
                [{"code": "64.08.04.2990", "name": "Desa Induk Contoh", "level": "desa",
                  "parent_code": "64.08.04", "change": "pembentukan"}],
                [{"code": code, "name": name, "level": "desa", "parent_code": "64.08.04",
                  "valid_from": "2025-01-01", "change": "pemekaran",
                  "from_codes": "64.08.04.2990"}
                 for code, name in (("64.08.04.2991", "Induk Hulu Contoh"),
                                    ("64.08.04.2992", "Induk Hilir Contoh"))]):
                r = await client.post("/v1/regions/import", headers=platform.auth("WALIDATA"),
                                      json={"rows": rows, "sample": True})
                assert r.status_code == 200, r.text
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/wilayah/64.08.04.2990")
    after = page.locator('[data-lineage="successors"]')
    await after.wait_for(timeout=15000)
    assert [await a.get_attribute("href") for a in await after.locator("a").all()] == [
        "/wilayah/64.08.04.2991", "/wilayah/64.08.04.2992"]
    history = await page.locator("ul.changes").inner_text()
    assert "Pemekaran 64.08.04.2990 Desa Induk Contoh menjadi" in history
    assert "1 Januari 2025" in history and "[data contoh]" in history
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await page.goto(f"{platform.gateway}/wilayah/64.08.04.2991")
    before = page.locator('[data-lineage="predecessors"]')
    await before.wait_for(timeout=15000)
    assert await before.locator("a").get_attribute("href") == "/wilayah/64.08.04.2990"
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await page.screenshot(path=shot(f"region-lineage-{width}"), full_page=True)
    await context.close()


@pytest.mark.parametrize("width", [1366, 390])
async def test_a_hidden_small_count_reads_disembunyikan_and_hidden_buttons_stay_hidden(
        platform, browser, width):
    """Sample values (contoh) of a sensitive dataset: the village count of 3 is hidden. The
    dataset page and the search results say "disembunyikan", never ``[object Object]`` or a
    value's JSON; a button with the hidden attribute is not shown."""
    slug = "contoh-sensitif"
    async with platform.client() as client:
        if (await client.get(f"/v1/datasets/{slug}")).status_code == 404:
            pool = await create_pool(platform.database_url, "registry")
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await registry_datasets.create_dataset(conn, dataset_payload(
                        slug, title="Contoh kasus sensitif (data contoh)"))
                    await registry_apply.apply_rows(conn, dataset_slug=slug,
                                                    publisher_id="walidata", rows=[
                        {"region": code, "period": "2024", "jumlah": n} for code, n in
                        (("64.08.04.2001", 3), ("64.08.04.2011", 40), ("64.08.04.2012", 41),
                         ("64.08.01.2001", 50))])
            finally:
                await pool.close()
            r = await client.put(f"/v1/datasets/{slug}/privacy", headers=platform.auth("WALIDATA"),
                                 json={"sensitive": True, "k": 5})
            assert r.status_code == 200, r.text

        async def indexed():
            items = (await client.get("/v1/search", params={"q": "kasus sensitif sangatta"})
                     ).json()["items"]
            return [i for i in items if i["kind"] == "record" and i["dataset"] == slug
                    and i["region_code"] == "64.08.04.2001" and "disembunyikan" in i["snippet"]]
        await eventually(indexed, timeout=30)
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/dataset/{slug}?period=2024")
    cell = page.locator('tr:has(td:text-is("64.08.04.2001")) td[data-measure="jumlah"]')
    await cell.wait_for(timeout=15000)
    assert await cell.inner_text() == "disembunyikan"
    text = await page.locator("main").inner_text()
    assert "[object Object]" not in text and '"suppressed"' not in text
    assert await page.locator("#more").is_hidden()  # one page of rows: no "more" button
    await page.goto(f"{platform.gateway}/?q=kasus+sensitif+sangatta")
    await page.wait_for_selector("#results li.result", timeout=15000)
    results = await page.locator("#results").inner_text()
    assert "disembunyikan" in results
    assert "[object Object]" not in results and "{" not in results
    kinds = await page.locator("#facets").inner_text()
    assert "record" not in kinds.split() and "region" not in kinds.split()
    await context.close()


@pytest.mark.parametrize("width", [1366, 390])
async def test_the_verification_queue_fits_the_screen_and_keeps_its_confirmation(
        platform, browser, width):
    """Runs after the held sample value above: the queue at 1366 and 390 px shows every cell
    inside the screen (rows stacked on a phone), numbers the Indonesian way, and a decision's
    confirmation stays after the queue reloads."""
    async with platform.client() as client:
        slug = "contoh-antrean-verifikasi"
        if (await client.get(f"/v1/datasets/{slug}")).status_code == 404:
            pool = await create_pool(platform.database_url, "registry")
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await registry_datasets.create_dataset(conn, dataset_payload(
                        slug, title="Contoh antrean verifikasi (data contoh)"))
            finally:
                await pool.close()
            r = await client.put(f"/v1/datasets/{slug}/verification-policy",
                                 headers=platform.auth("WALIDATA"), json={"policy": "verifikasi"})
            assert r.status_code == 200, r.text
            pool = await create_pool(platform.database_url, "registry")
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await registry_apply.apply_rows(conn, dataset_slug=slug,
                                                    publisher_id="walidata", rows=[
                        {"region": code, "period": "2024", "jumlah": 12345}
                        for code in ("64.08.04.2001", "64.08.04.2011")])
            finally:
                await pool.close()
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/verifikasi")
    await page.fill("#k", platform.keys["SATUDATA_KEY_WALIDATA"])
    await page.click("#key button")
    async with platform.client() as client:
        waiting = len((await client.get("/v1/verification", params={"dataset": slug},
                                        headers=platform.auth("WALIDATA"))).json()["items"])
    await page.fill("#f-dataset", slug)
    await page.click("#filters button:not([type])")
    rows = page.locator("#queue tbody tr")
    # the filtered queue, not the whole one the key's first load shows
    await expect(rows).to_have_count(waiting, timeout=15000)
    await expect(page.locator("#msg")).to_have_text(f"{waiting} nilai menunggu (terlama dulu).",
                                                    timeout=15000)
    assert "12.345" in await page.locator("#queue").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    right = await page.locator("#queue td").evaluate_all(
        "cells => Math.max(...cells.map(c => c.getBoundingClientRect().right))")
    assert right <= width, right
    await page.screenshot(path=shot(f"verifikasi-{width}"), full_page=True)
    before = waiting
    await rows.first.locator("button[data-act='verify']").click()
    # (the page's CSP allows no eval: waits go through locators, not wait_for_function)
    await page.locator("#done", has_text="diverifikasi dan terbit").wait_for(timeout=15000)
    await expect(page.locator("#queue tbody tr")).to_have_count(before - 1, timeout=15000)
    assert "1 nilai diverifikasi dan terbit" in await page.locator("#done").inner_text()
    await context.close()


async def test_a_citizen_reports_a_figure_and_the_walidata_answers(platform, browser):
    """On a phone, a citizen reports a figure (no account); the figure reads "sedang
    ditinjau"; the walidata answers from /verifikasi; the answer is audited and the mark goes."""
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/dataset/{SLUG}?period=2023")
    row = page.locator('#table tbody tr:has(td:text-is("64.08.04.2011"))').first
    await row.wait_for(timeout=15000)
    await row.locator("button[data-report]").click()
    await page.fill("#rmessage", "Angka ini terlalu kecil; data desa kami lebih besar (contoh).")
    await page.fill("#rcontact", "warga@example.org")
    await page.click("#reportform button")
    await page.wait_for_selector("#reportdone", timeout=15000)
    assert await row.locator(".review").inner_text() == "sedang ditinjau"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    desk = await context.new_page()
    await desk.goto(f"{platform.gateway}/verifikasi")
    await desk.fill("#k", platform.keys["SATUDATA_KEY_WALIDATA"])
    await desk.click("#key button")
    report = desk.locator("#reports article.report").first
    await report.wait_for(timeout=15000)
    assert "warga@example.org" in await report.inner_text()
    await report.locator("textarea").fill("Sudah dicocokkan dengan register desa; angka tetap.")
    await report.locator("button[data-answer]").click()
    await desk.locator("#reports-msg", has_text="Jawaban terkirim").wait_for(timeout=15000)
    async with platform.client() as client:
        log = (await client.get("/v1/audit", headers=platform.auth("WALIDATA"),
                                params={"action": "feedback.answer"})).json()["items"]
        assert len(log) == 1
        public = (await client.get("/v1/feedback", params={"dataset": SLUG})).json()["items"]
        assert public[0]["status"] == "answered" and "contact" not in public[0]
    await page.reload()
    await row.wait_for(timeout=15000)
    assert await row.locator(".review").count() == 0
    await context.close()


async def test_a_data_request_goes_from_the_form_to_the_walidatas_answer(platform, browser):
    """A citizen asks for data on a phone and gets a number and a due date; the walidata
    answers on /verifikasi; the public list shows the answer (audited)."""
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    page = await context.new_page()
    await page.goto(f"{platform.gateway}/permohonan")
    await page.fill("#qsubject", "Jumlah posyandu aktif per desa (contoh permohonan)")
    await page.fill("#qcontact", "warga@example.org")
    await page.click("#reqform button")
    done = page.locator("#reqnumber")
    await done.wait_for(timeout=15000)
    number = re.search(r"PD-\d{4}-\d{5}", await done.inner_text()).group(0)
    assert "paling lambat" in await done.inner_text()
    row = page.locator(f'#requests tr[data-number="{number}"]')
    assert "diajukan" in await row.inner_text() and "warga@example.org" not in await row.inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    desk = await context.new_page()
    await desk.goto(f"{platform.gateway}/verifikasi")
    await desk.fill("#k", platform.keys["SATUDATA_KEY_WALIDATA"])
    await desk.click("#key button")
    item = desk.locator(f'#requests article[data-number="{number}"]')
    await item.wait_for(timeout=15000)
    await item.locator("textarea").fill("Diterbitkan sebagai dataset jumlah penduduk.")
    await item.locator("[data-dataset]").fill(SLUG)
    await item.locator('button[data-req="answer"]').click()
    await desk.locator("#requests-msg", has_text="dijawab").wait_for(timeout=15000)
    await page.reload()
    await row.wait_for(timeout=15000)
    assert "dijawab" in await row.inner_text()
    assert await row.locator(f'a[href="/dataset/{SLUG}"]').count() == 1
    async with platform.client() as client:
        log = (await client.get("/v1/audit", headers=platform.auth("WALIDATA"),
                                params={"action": "data_request.answer"})).json()["items"]
        assert [e["target"] for e in log] == [number]
    await context.close()


@pytest.mark.parametrize("width", [1366, 390])
async def test_a_question_is_answered_first_by_the_servers_figure(platform, bulk, browser,
                                                                  width):
    """"jumlah penduduk … kecamatan X 2024" shows the figure itself first (summed by
    /v1/aggregates, the same number as the region page), then the place's page; a sex typed
    filters it; a partial period says so."""
    asked = "berapa penduduk perempuan kelompok umur kecamatan sangatta utara 2024"
    async with platform.client() as client:
        async def figure():
            body = (await client.get("/v1/search", params={"q": asked})).json()
            return body.get("figure")
        fig = await eventually(figure, timeout=60, interval=1)  # search indexes the bulk load
        assert (fig["dataset"], fig["region_code"], fig["year"], fig["dimensions"]) == (
            BULK, "64.08.04", "2024", {"jenis_kelamin": "P"})
        want = (await client.get("/v1/aggregates", params={
            "dataset": BULK, "region": "64.08.04", "period": "2024",
            "jenis_kelamin": "P"})).json()["values"]["jumlah"]
        partial = (await client.get("/v1/aggregates", params={
            "dataset": BULK, "period": "2025"})).json()
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{platform.gateway}/?q={asked.replace(' ', '+')}")
    answer = page.locator("li.result").first
    await expect(answer).to_have_id("answer", timeout=15000)
    await expect(answer.locator("strong.total")).to_have_text(f"{indonesian(want)} jiwa")
    assert "Kecamatan Sangatta Utara · 2024 · Perempuan" in await answer.inner_text()
    await expect(answer.locator('a[href="/wilayah/64.08.04"]')).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    await page.screenshot(path=shot(f"answer-{width}"), full_page=True)
    # the regency in a period not every village reported: the figure says it is partial
    await page.fill("#q", "penduduk kelompok umur kutim 2025")
    await expect(page.locator("#answer .partial-note")).to_contain_text(
        f"baru {partial['reporting']} dari {partial['expected']} desa melapor")
    await expect(page.locator("#answer")).to_contain_text("Kabupaten Kutai Timur · 2025")
    assert errors == []
    await context.close()


@pytest.mark.parametrize("width", [1366, 390])
async def test_the_walidata_desk_shows_rules_privacy_schedule_and_the_audit_trail(
        platform, browser, width):
    """/verifikasi is the walidata's desk: with a dataset chosen, its rules, privacy and
    schedule; always the reminders, region changes, SIPD pushes and the audit trail, inside
    the screen at 1366 and 390 px."""
    slug = "contoh-meja-walidata"
    async with platform.client() as client:
        if (await client.get(f"/v1/datasets/{slug}")).status_code == 404:
            pool = await create_pool(platform.database_url, "registry")
            try:
                async with pool.acquire() as conn, conn.transaction():
                    await registry_datasets.create_dataset(conn, dataset_payload(
                        slug, title="Contoh meja walidata (data contoh)"))
            finally:
                await pool.close()
            walidata = platform.auth("WALIDATA")
            r = await client.post(f"/v1/datasets/{slug}/rules", headers=walidata, json={
                "expression": "jumlah >= 0", "message": "Jumlah tidak boleh negatif."})
            assert r.status_code in (200, 201), r.text
            r = await client.put(f"/v1/datasets/{slug}/privacy", headers=walidata,
                                 json={"sensitive": True, "k": 5})
            assert r.status_code == 200, r.text
        forms = f"/v1/datasets/{slug}/statistical-metadata"
        r = await client.put(forms, headers=platform.auth("WALIDATA"), json={
            "kegiatan": {"judul": f"Kegiatan contoh {width}"}})  # held, incomplete
        assert r.status_code == 201, r.text
        held = r.json()["version"]
        r = await client.put("/v1/epss/plan/2026", headers=platform.auth("WALIDATA"), json={
            "items": [{"title": "Jumlah penduduk per desa (contoh)", "producer": "Disdukcapil",
                       "walidata": "Diskominfo", "frequency": "annual",
                       "datasets": ["jumlah-penduduk"]},
                      {"title": "Jumlah UMKM per desa (contoh)", "producer": "Diskop",
                       "walidata": "Diskominfo", "frequency": "annual"}]})
        assert r.status_code == 200, r.text
        plan = {i["title"]: i["status"] for i in r.json()["items"]}
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        locale="id-ID")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{platform.gateway}/verifikasi")
    await page.fill("#k", platform.keys["SATUDATA_KEY_WALIDATA"])
    await page.click("#key button")
    await page.fill("#f-dataset", slug)
    await page.click("#filters button:not([type])")
    await expect(page.locator("#desk-rules")).to_contain_text("jumlah >= 0", timeout=15000)
    await expect(page.locator("#desk-privacy")).to_contain_text("jumlah 1–4 disembunyikan")
    await expect(page.locator("#desk-schedule")).to_contain_text("jatuh tempo")
    await expect(page.locator("#desk-audit")).to_contain_text("dataset.privacy")
    await expect(page.locator("#desk-changes")).to_contain_text("Singa Geweh")  # reference data
    # changed from the desk, each through the audited API: privacy, a rule added and removed,
    # the schedule and the outlier threshold
    await page.fill("#privacy-form input[name=k]", "7")
    await page.click("#privacy-form button")
    await expect(page.locator("#dataset-done")).to_have_text("Privasi disimpan.")
    await expect(page.locator("#desk-privacy")).to_contain_text("jumlah 1–6 disembunyikan")
    await page.fill("#rule-form input[name=expression]", "jumlah <= 100000")
    await page.fill("#rule-form input[name=message]", "Jumlah terlalu besar untuk satu desa.")
    await page.click("#rule-form button")
    await expect(page.locator("#desk-rules")).to_contain_text("jumlah <= 100000")
    await page.locator("#desk-rules tr", has_text="jumlah <= 100000").locator(
        "button[data-rule]").click()
    await expect(page.locator("#dataset-done")).to_have_text("Aturan dihapus.")
    await expect(page.locator("#desk-rules")).not_to_contain_text("jumlah <= 100000")
    await page.fill("#schedule-form input[name=grace_days]", "60")
    await page.click("#schedule-form button")
    await expect(page.locator("#desk-schedule")).to_contain_text("tenggang 60 hari")
    await page.fill("#policy-form input[name=outlier_z]", "4")
    await page.click("#policy-form button")
    await expect(page.locator("#dataset-done")).to_have_text("Kebijakan disimpan.")
    async with platform.client() as client:
        walidata = platform.auth("WALIDATA")
        policy = (await client.get(f"/v1/datasets/{slug}/verification-policy",
                                   headers=walidata)).json()
        trail = [e["action"] for e in (await client.get(
            "/v1/audit", params={"target": slug, "limit": 50}, headers=walidata)).json()["items"]]
        removed = [e["target"] for e in (await client.get("/v1/audit", params={
            "action": "verification.delete_rule", "limit": 50}, headers=walidata)).json()["items"]]
    assert policy["outlier_z"] == 4
    assert {"dataset.privacy", "verification.create_rule", "timeliness.put_schedule",
            "verification.put_policy"} <= set(trail), trail
    assert any(t.startswith(f"{slug}/") for t in removed), removed
    await page.fill("#privacy-form input[name=k]", "5")  # as the other width expects it
    await page.click("#privacy-form button")
    await expect(page.locator("#desk-privacy")).to_contain_text("jumlah 1–4 disembunyikan")
    # statistical metadata: the held version, what it lacks, returned with the note typed
    row = page.locator("#desk-forms tr", has_text="Contoh meja walidata")
    await expect(row).to_contain_text(f"versi {held} ditahan")
    await expect(row).to_contain_text("kegiatan.tahun")
    await page.fill("#f-note", "Lengkapi desain kegiatan.")
    await row.locator('button[data-form="return"]').click()
    await expect(page.locator("#forms-done")).to_have_text(
        f"Metadata {slug} versi {held} dikembalikan ke produsen.")
    # the Daftar Data of the year: as the API says, item by item
    await page.fill("#p-year", "2026")
    await page.click("#plan-year button")
    for title, status in plan.items():
        await expect(page.locator("#desk-plan tr", has_text=title)).to_contain_text(
            status.replace("_", " "))
    await expect(page.locator("#desk-plan tr", has_text="UMKM")).to_contain_text("belum ada")
    async with platform.client() as client:
        [last] = (await client.get(f"{forms}/versions", params={"limit": 1},
                                   headers=platform.auth("WALIDATA"))).json()["items"]
    assert (last["version"], last["status"], last["note"]) == (
        held, "returned", "Lengkapi desain kegiatan.")
    assert await page.evaluate("document.documentElement.scrollWidth") <= width
    right = await page.locator("#desk td, #forms td, #plan td").evaluate_all(
        "cells => Math.max(...cells.map(c => c.getBoundingClientRect().right))")
    assert right <= width, right
    await page.screenshot(path=shot(f"meja-{width}"), full_page=True)
    assert errors == []
    await context.close()
