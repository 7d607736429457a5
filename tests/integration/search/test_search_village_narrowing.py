"""A word looked up under a village filter is ANDed, inside the index, with a lexeme every record
document of that village holds (search.region_lexeme: the statistics agency's code, else the
rarest word of its name). That may change no answer, also after the village's aliases change
(sample data, contoh)."""

from __future__ import annotations

from services.search import indexing, service
from services.search.cache import AnswerCache
from services.search.models import Filters
from services.search.sql import facet_counts, match
from tests.integration.search.conftest import dataset, kutim_regions, record

CODED = "64.08.02.2003"       # Muara Wahau, the desa: its name is its kecamatan's too
NAMED = "64.08.07.2008"       # Kernyanyan: no alias, its own name is its lexeme
VILLAGES = (CODED, NAMED, "64.08.02.2001", "64.08.02.2002", "64.08.07.2001", "64.08.11.2009")
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]
OPTIONS = dict(prefix=True, typo_similarity=0.45, facet_values_max=50,
               statement_timeout_ms=5000)


async def _load(pool) -> dict[str, int]:
    """Records of two datasets in six villages; returns how many "sekolah" records each has."""
    async with pool.acquire() as conn:
        async with conn.transaction():
            await indexing.apply_regions(conn, kutim_regions())
            await indexing.apply_datasets(conn, [
                dataset("jumlah-penduduk", "Jumlah Penduduk"),
                dataset("jumlah-sekolah", "Jumlah Sekolah", topic="pendidikan")])
            await indexing.apply_records(conn, [
                record("jumlah-penduduk", code, month, 100 + i, sex=sex)
                for i, (code, month, sex) in enumerate(
                    (c, m, s) for c in VILLAGES for m in MONTHS for s in ("L", "P"))] + [
                record("jumlah-sekolah", code, month, 3) for code in VILLAGES
                for month in MONTHS[:6 if code == NAMED else 12]])
        await conn.execute("ANALYZE documents")
    return {code: 6 if code == NAMED else 12 for code in VILLAGES}


async def _pages(pool, text: str, f: Filters) -> list[dict]:
    pages, cursor = [], None
    while True:
        r = await service.search(pool, AnswerCache(0), text, f, limit=5, cursor=cursor,
                                 **OPTIONS)
        pages.append(r.model_dump())
        cursor = r.next_cursor
        if not cursor:
            return pages


def _narrowed(monkeypatch) -> list[str | None]:
    """Narrowing taken wherever it may be (the fixture's words are held by a few hundred
    records, not NARROW_FROM); returns the lexemes the matches were built with."""
    monkeypatch.setattr(facet_counts, "NARROW_FROM", 1)
    monkeypatch.setattr(facet_counts, "NARROW_RATIO", 1)
    built, build = [], match.build

    def recording(*args, **kwargs):
        built.append(kwargs.get("narrow"))
        return build(*args, **kwargs)
    monkeypatch.setattr(match, "build", recording)
    return built


async def test_a_village_filter_narrows_the_index_lookup_and_changes_no_answer(
        search_db, monkeypatch):
    sekolah = await _load(search_db)
    cases = [("sekolah", Filters(region=CODED)), ("sekolah", Filters(region=NAMED)),
             ("jumlah sekolah", Filters(region=CODED, kind="record")),
             ("sekolah", Filters(region=CODED, period_from="2024-03", period_to="2024-05"))]
    monkeypatch.setattr(facet_counts, "NARROW_FROM", 10 ** 12)  # never: the region btree
    plain = [await _pages(search_db, text, f) for text, f in cases]
    built = _narrowed(monkeypatch)
    narrowed = [await _pages(search_db, text, f) for text, f in cases]
    assert narrowed == plain
    assert {"6404020005", "kernyanyan"} <= set(built)  # (the agency's code; the name)
    assert [p[0]["total"] for p in plain] == [sekolah[CODED], sekolah[NAMED], 12, 3]
    assert len(plain[0]) == 3  # (12 records and the dataset, 5 a page)
    # a kecamatan's records are as many as a word's: never narrowed
    built.clear()
    await _pages(search_db, "sekolah", Filters(region="64.08.02"))
    assert built and set(built) == {None}


async def test_a_village_whose_aliases_change_is_still_found_whole(search_db, monkeypatch):
    """The lexeme comes from the village's name and aliases as the index holds them now, and
    the indexer rebuilt the documents of its records when they changed."""
    sekolah = await _load(search_db)
    village = next(r for r in kutim_regions() if r.code == CODED)
    recoded = village.model_copy(update={"aliases": ["6404029999"],
                                         "version": village.version + 1})
    async with search_db.acquire() as conn, conn.transaction():
        await indexing.apply_regions(conn, [recoded])
    built = _narrowed(monkeypatch)
    pages = await _pages(search_db, "sekolah", Filters(region=CODED))
    assert "6404029999" in built and "6404020005" not in built
    assert pages[0]["total"] == sekolah[CODED]  # every record: none lost to the old code
    assert sum(1 for p in pages for i in p["items"] if i["kind"] == "record") == sekolah[CODED]


def test_narrowing_pays_only_for_a_word_between_a_village_and_a_common_word():
    village = {"lexeme": "6404020005", "records": None}
    named = {"lexeme": "kernyanyan", "records": 7_000}
    docs = 1_000_000
    assert facet_counts.narrowing(village, [66_000], docs) == "6404020005"  # "sekolah"
    assert facet_counts.narrowing(named, [66_000], docs) == "kernyanyan"
    assert facet_counts.narrowing(named, [20_000], docs) is None  # under 4x the village's
    assert facet_counts.narrowing(village, [700_000], docs) is None  # "penduduk": common
    assert facet_counts.narrowing(village, [2_000], docs) is None  # rare: already cheap
    assert facet_counts.narrowing(village, [0, 66_000], docs) is None  # a word not counted
    assert facet_counts.narrowing(None, [66_000], docs) is None  # not a village
    assert facet_counts.narrowing(village, [], docs) is None
