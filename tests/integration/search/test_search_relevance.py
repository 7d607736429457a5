"""A gold set of queries over the real region names of Kutai Timur: typos, BPS spellings,
Indonesian word forms, exact names first, search-as-you-type."""

from __future__ import annotations

import random

import pytest

from services.search.sql.match import title_fit_sql
from shared.sql import Where
from tests.helpers import eventually
from tests.integration.search.conftest import dataset, kutim_regions, query, record

DATASETS = [
    dataset("jumlah-penduduk", "Jumlah Penduduk", topic="kependudukan",
            description="Jumlah penduduk per desa menurut jenis kelamin (data contoh)"),
    dataset("jumlah-sekolah", "Jumlah Sekolah Dasar", topic="pendidikan",
            description="Sekolah dasar negeri dan swasta per desa", tags=["sekolah", "sd"],
            publisher="disdik"),
    dataset("proyek-pembangunan", "Proyek Pembangunan Desa", topic="pembangunan",
            description="Kegiatan pembangunan jalan dan jembatan desa", publisher="bappeda"),
]
RECORDS = [
    record("jumlah-penduduk", "64.08.04.2001", "2024", 1200),   # Sangatta Utara (desa)
    record("jumlah-penduduk", "64.08.04.2001", "2023", 1100),
    record("jumlah-penduduk", "64.08.01.2001", "2024", 800),    # Senyiur, Muara Ancalong
    record("jumlah-sekolah", "64.08.08.2004", "2024", 3, publisher="disdik"),  # Sidomulyo, Kombeng
    record("jumlah-sekolah", "64.08.08.2006", "2024", 2, publisher="disdik"),  # Kombeng Indah
    record("jumlah-sekolah", "64.08.04.2001", "2024", 9, publisher="disdik"),
]

# query -> (expected first result as (kind, id) or None, ids that must be found too)
GOLD = [
    ("sangata utara", ("region", "64.08.04"), []),                  # 1-edit typo
    ("Sangatta Utara", ("region", "64.08.04"), ["64.08.04.2001"]),  # exact name first
    ("muara ancalog", ("region", "64.08.01"), []),                  # 1-edit typo
    ("kongbeng", ("region", "64.08.08"), []),                       # BPS spelling -> Kombeng
    ("kombeng", ("region", "64.08.08"), ["64.08.08.2006"]),
    ("jumlah penduduk", ("dataset", "jumlah-penduduk"), []),        # exact dataset name first
    ("pembangunan", ("dataset", "proyek-pembangunan"), []),
    ("bangun", None, ["proyek-pembangunan"]),                       # stem meets "pembangunan"
    ("kependudukan", ("dataset", "jumlah-penduduk"), []),           # topic word form
    ("muara wahau", ("region", "64.08.02"), ["64.08.02.2003"]),
    ("sangatt", ("region", "64.08.04"), ["64.08.12"]),              # typing: prefix
    ("telukpandan", ("region", "64.08.13"), []),                    # no space, still close
]


@pytest.fixture
async def indexed(search_app, registry_bus):
    await registry_bus.regions(kutim_regions())
    await registry_bus.datasets(*DATASETS)
    await registry_bus.records(RECORDS)

    async def all_records():
        r = await query(search_app["client"], limit=1)
        kinds = {f["value"]: f["count"] for f in r["facets"]["kind"]}
        return kinds == {"record": len(RECORDS), "dataset": len(DATASETS), "region": 160}
    await eventually(all_records)
    return search_app


@pytest.mark.parametrize("text,first,also", GOLD, ids=[g[0] for g in GOLD])
async def test_gold_query_puts_expected_result_first(indexed, text, first, also):
    r = await query(indexed["client"], q=text, limit=20)
    got = [(i["kind"], i["id"]) for i in r["items"]]
    assert got, text
    if first is not None:
        assert got[0] == first, got[:5]
    ids = {i["id"] for i in r["items"]}
    assert set(also) <= ids


async def test_typo_in_place_name_still_finds_the_citizens_record(indexed):
    r = await query(indexed["client"], q="penduduk sangata utara 2024", limit=5)
    top = r["items"][0]
    assert (top["kind"], top["dataset"], top["region_code"], top["period"]) == (
        "record", "jumlah-penduduk", "64.08.04.2001", "2024")
    assert top["values"] == {"jumlah": 1200}
    assert "<mark>" in top["snippet"]
    assert top["url"] == f"/v1/records/{top['id']}"


async def test_schools_in_kecamatan_by_bps_spelling(indexed):
    r = await query(indexed["client"], q="sekolah kongbeng", kind="record")
    assert {i["region_code"] for i in r["items"]} == {"64.08.08.2004", "64.08.08.2006"}
    assert r["total"] == 2


async def test_region_filter_includes_descendants_and_empty_query_lists_them(indexed):
    r = await query(indexed["client"], region="64.08.04", kind="record")
    assert {i["region_code"] for i in r["items"]} == {"64.08.04.2001"}
    assert r["total"] == 3
    r = await query(indexed["client"], region="64.08.04.2001")
    assert {i["kind"] for i in r["items"]} == {"region", "record"}


async def test_period_range_keeps_sub_periods_and_publisher_filter(indexed):
    r = await query(indexed["client"], q="penduduk", kind="record", period_from="2024",
                    period_to="2024")
    assert {i["period"] for i in r["items"]} == {"2024"} and r["total"] == 2
    r = await query(indexed["client"], publisher="disdik", kind="record")
    assert r["total"] == 3


async def test_page_size_is_capped(indexed):
    resp = await indexed["client"].get("/v1/search", params={"q": "desa", "limit": 10_000})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "page_size_too_large"


TITLES = ["Jumlah Sekolah — Teluk Singkama 2025-03 (Sekolah Menengah Pertama)",
          "Jumlah Penduduk — Sangatta Utara 2024-05 (Laki-laki, 10-14 tahun)",
          "sekolahnya", "SEKOLAH", "pra_sekolah", "prasekolah", "x2024", "2024",
          "Utara Sangatta", "desa sangattautara", "Sangatta Selatan", "", "a b c", "Café sekolah",
          "menengah atas, sekolah", "sekolah sekolah", "Kombeng Indah", "kombeng2"]
FIT_QUERIES = ["sekolah", "Sekolah Menengah", "laki laki", "laki-laki", "2024", "sangatta utara",
               "utara", "sekolah 2025", "menengah atas sekolah", "pra", "a", "a b", "sd",
               "café", "kombeng", "kombeng 2", "sekolah_", "sangatta  utara 2024-05"]


async def test_title_fit_is_word_similarity(search_db):
    """A ranked page's title fit (match.title_fit_sql, a whole-word test before the trigram
    search) scores every title exactly as word_similarity does: the fixed titles above, and
    random titles and queries over a few words that share letters and trigrams."""
    rnd = random.Random(30)
    vocab = ["sekolah", "sekolahnya", "sek", "utara", "sangatta", "2024", "05", "laki", "a"]
    titles = TITLES + [rnd.choice(["", "(", "— "]).join(
        rnd.choice(vocab) + rnd.choice([" ", "-", ", ", "_", ""]) for _ in range(rnd.randint(1, 5)))
        for _ in range(300)]
    queries = FIT_QUERIES + [" ".join(rnd.sample(vocab, rnd.randint(1, 3))) for _ in range(40)]
    titles += [rnd.choice(["", "Jumlah ", "x "]) + rnd.choice([" ", "-", ", ", " — "]).join(
        q.split()) + rnd.choice(["", " 2024", "nya", "_"]) for q in queries for _ in range(3)]
    whole = 0
    async with search_db.acquire() as conn:
        for text in queries:
            sql = Where()
            sql.param(titles)
            fit, _shortcut, _ws = title_fit_sql(text, sql)
            rows = await conn.fetch(f"SELECT d.title, ({fit})::float8 AS fit, "
                                    f"word_similarity({sql.param(text)}, d.title)::float8 AS ws "
                                    f"FROM unnest($1::text[]) d(title)", *sql.args)
            assert [(r["title"], r["fit"]) for r in rows] == [
                (r["title"], r["ws"]) for r in rows], text
            whole += sum(r["ws"] == 1 for r in rows)
    assert whole > 200  # (titles that take the shortcut are among those compared)
