"""The portal in a real headless Chromium with every process's clock set after the 2026 due
date (SATUDATA_NOW, test-only): the dataset page says "terlambat", the timeliness page lists
the villages that have not sent as late, with its chart."""

from __future__ import annotations

import pytest

from tests.e2e.harness import start_platform, stop_platform
from tests.e2e.test_portal import browser, page, shot  # noqa: F401 - the same browser fixtures

pytestmark = pytest.mark.e2e
SLUG = "jumlah-penduduk"


@pytest.fixture(scope="module")
async def late_platform(pg_server_url, nats_url):
    running = await start_platform(pg_server_url, nats_url, sample_values=True, extra_env={
        "SATUDATA_TESTING": "1", "SATUDATA_NOW": "2027-04-15T10:00",
        "GATEWAY_RATE_LIMIT_ADDRESS": "100000/minute"})
    yield running
    await stop_platform(running)


async def test_dataset_page_shows_terlambat_past_its_due_date(late_platform, page):  # noqa: F811
    await page.goto(f"{late_platform.gateway}/dataset/{SLUG}")
    await page.wait_for_selector("#currency", timeout=20000)
    label = await page.locator("#currency").inner_text()
    assert label.startswith("terlambat "), label
    await page.screenshot(path=shot("dataset-terlambat"), full_page=True)
    assert page.errors == []


async def test_timeliness_routes_lists_late_villages_with_a_chart(late_platform, page):  # noqa: F811
    await page.goto(f"{late_platform.gateway}/ketepatan?dataset={SLUG}&period=2026")
    await page.wait_for_selector("svg.tl-chart rect", timeout=20000)
    table = await page.locator("table.tl-table").first.inner_text()
    assert "Terlambat, belum dikirim" in table and "Sangatta Utara" in table
    assert await page.locator("table.tl-table tbody tr").count() == 141
    await page.screenshot(path=shot("ketepatan"), full_page=True)
    assert page.errors == []


async def test_timeliness_routes_fits_a_phone(late_platform, browser):  # noqa: F811
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    phone = await context.new_page()
    await phone.goto(f"{late_platform.gateway}/ketepatan?dataset={SLUG}")
    await phone.wait_for_selector("svg.tl-chart", timeout=20000)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 400
    await phone.screenshot(path=shot("ketepatan-phone"), full_page=False)
    await context.close()
