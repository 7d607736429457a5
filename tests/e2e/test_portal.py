"""The public portal in a real headless Chromium (Debian's package, driven by Playwright),
against the whole platform running as processes: the page loads, a search returns results, a
chart renders, downloads work, a new value appears without a reload, and it fits a phone.
Screenshots land in tests/artifacts/ (gitignored)."""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from services.registry import service as registry_service
from shared.db import create_pool
from tests.e2e.harness import start_platform, stop_platform
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLUG = "jumlah-penduduk"

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
    assert page.errors == []


async def test_dataset_page_has_table_chart_metadata_and_downloads(platform, page, tmp_path):
    await page.goto(f"{platform.gateway}/#/dataset/{SLUG}")
    await page.wait_for_selector("#chart svg rect.bar", timeout=15000)
    assert await page.locator("#chart svg rect.bar").count() > 1
    assert await page.locator("#table tbody tr").count() > 10
    assert await page.locator("#updated").inner_text() != ""
    assert "Dinas Kependudukan" in await page.locator("dl.meta").inner_text()
    await page.screenshot(path=shot("dataset"), full_page=True)

    async with page.expect_download() as info:
        await page.click("#dl-csv")
    csv_path = tmp_path / "export.csv"
    await (await info.value).save_as(csv_path)
    rows = list(csv.reader(io.StringIO(csv_path.read_text())))
    assert rows[0][:2] == ["region_code", "period"] and len(rows) > 100

    async with page.expect_download() as info:
        await page.click("#dl-xlsx")
    xlsx_path = tmp_path / "export.xlsx"
    await (await info.value).save_as(xlsx_path)
    sheet = load_workbook(xlsx_path, read_only=True).active
    assert sum(1 for _ in sheet.iter_rows()) == len(rows)
    assert page.errors == []


async def test_new_value_appears_without_reload(platform, page):
    await page.goto(f"{platform.gateway}/#/dataset/{SLUG}")
    await page.wait_for_selector("#table tbody tr", timeout=15000)
    await page.wait_for_selector("#live.on", timeout=10000)
    first = page.locator("#table tbody tr").first
    code = await first.locator("td").first.inner_text()
    # a new value enters through the registry (the path every import takes), then the gateway
    # hears of it over NATS and the page's EventSource brings it in
    pool = await create_pool(platform.database_url, "registry")
    try:
        async with pool.acquire() as conn, conn.transaction():
            outcome = await registry_service.apply_rows(
                conn, dataset_slug=SLUG, publisher_id="disdukcapil",
                rows=[{"region": code, "period": "2023", "jenis_kelamin": "L",
                       "jumlah": 987654}])
            assert outcome.counts.updated + outcome.counts.created == 1
    finally:
        await pool.close()
    await page.wait_for_selector("td.num:has-text('987.654')", timeout=15000)
    await page.screenshot(path=shot("live-update"), full_page=True)


async def test_region_pages_drill_down(platform, page):
    await page.goto(f"{platform.gateway}/#/wilayah")
    await page.wait_for_selector("ul.children a", timeout=15000)
    await page.locator("ul.children a").first.click()
    await page.wait_for_selector("h1:has-text('kecamatan')", timeout=15000)
    await page.locator("ul.children a").first.click()
    await page.wait_for_selector("h1:has-text('desa'), h1:has-text('kelurahan')", timeout=15000)
    await page.wait_for_selector("#regiondata table", timeout=15000)
    await page.screenshot(path=shot("region"), full_page=True)


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
    assert "http://" not in html and "https://" not in html
