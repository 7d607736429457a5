"""An empty query under filters (browsing with the portal's filters) is counted from the record
cells the indexer keeps (search migration 0018): the same answer as counting the matches, and
exact past the 10,000 matches a read stops at (sample data, contoh). That the cells follow every
change of the index is test_search_kept_counts' (facet_counts.kept holds them)."""

from __future__ import annotations

from services.search import service
from services.search.cache import AnswerCache
from services.search.models import Filters
from services.search.sql import cells, facets
from tests.integration.search.test_search_paging_and_facets import DESA, _load

KEPT = [Filters(dataset="jumlah-penduduk"), Filters(region="64.08.09"),
        Filters(dataset="jumlah-sekolah", region="64.08.09"),
        Filters(period_from="2024", period_to="2024"), Filters(topic="pendidikan"),
        Filters(publisher="disdik", kind="record"),
        Filters(dataset="jumlah-penduduk", period_from="2023", period_to="2023",
                region="64.08.04")]
# a village, the regency, other kinds: the cells cannot say, the matches are read
READ = [Filters(region=DESA[5].code), Filters(region="64.08"), Filters(kind="dataset"),
        Filters(kind="region", region="64.08.09")]
OPTIONS = dict(prefix=True, typo_similarity=0.45, facet_values_max=50,
               statement_timeout_ms=5000)


async def _pages(pool, f: Filters) -> list[dict]:
    pages, cursor = [], None
    while True:
        r = await service.search(pool, AnswerCache(0), "", f, limit=100, cursor=cursor,
                                 **OPTIONS)
        pages.append(r.model_dump())
        cursor = r.next_cursor
        if not cursor:
            return pages


async def test_browsing_with_filters_is_counted_from_the_kept_cells(
        search_app, registry_bus, monkeypatch):
    await _load(search_app, registry_bus)
    pool = search_app["pool"]
    answered, real = [], cells.counts

    async def spy(*args, **kwargs):
        counts = await real(*args, **kwargs)
        answered.append(counts is not None)
        return counts
    monkeypatch.setattr(cells, "counts", spy)
    kept, by_cells = [], []
    for f in KEPT + READ:
        answered.clear()
        kept.append(await _pages(pool, f))
        by_cells.append(set(answered))  # (every page: a later one counts again)
    assert by_cells == [{True}] * len(KEPT) + [{False}] * len(READ)
    assert all(p[0]["exact"] and p[0]["total"] for p in kept)

    async def none(*args, **kwargs):
        return None
    monkeypatch.setattr(cells, "counts", none)
    read = [await _pages(pool, f) for f in KEPT + READ]
    assert kept == read  # totals, facets and every page (a small index: reading is exact)

    # past what a read counts (EXACT_UP_TO: 10,000, 100 here) the cells stay exact
    monkeypatch.setattr(facets, "EXACT_UP_TO", 100)
    f = Filters(dataset="jumlah-penduduk")
    lower = await service.search(pool, AnswerCache(0), "", f, limit=10, cursor=None, **OPTIONS)
    monkeypatch.setattr(cells, "counts", real)
    exact = await service.search(pool, AnswerCache(0), "", f, limit=10, cursor=None, **OPTIONS)
    documents = await pool.fetchval(
        "SELECT count(*) FROM documents WHERE dataset = 'jumlah-penduduk'")
    assert documents > 100 and (lower.total, lower.exact) == (101 + 1, False)
    assert (exact.total, exact.exact, exact.message) == (documents, True, None)
