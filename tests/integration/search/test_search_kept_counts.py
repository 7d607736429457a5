"""Counts the indexer keeps (search.facet_counts): a one-word query's total and facets come
from them and equal what counting its matches gives; they follow every change of the index."""

from __future__ import annotations

from dataclasses import replace

from services.search import answer_store, asked
from services.search.sql import facet_counts, facets
from tests.helpers import eventually
from tests.integration.search.conftest import dataset, kutim_regions, query, record
from tests.integration.search.test_search_paging_and_facets import _load

ONE_WORD = ["penduduk", "sekolah", "laki", "perempuan", "sangatta", "kombeng", "2024",
            "jumlah", "warga", "sd", "zzzqx"]


def _by_value(answer: dict) -> dict:
    return {name: {v["value"]: (v["count"], v["label"]) for v in values}
            for name, values in answer["facets"].items()}


async def test_one_word_counts_from_kept_counts_equal_counting_the_matches(
        search_app, registry_bus, monkeypatch):
    await _load(search_app, registry_bus)
    c = search_app["client"]
    used = []
    real = facet_counts.exact_counts

    async def spy(*args, **kwargs):
        counts = await real(*args, **kwargs)
        used.append(counts is not None)
        return counts
    monkeypatch.setattr(facet_counts, "exact_counts", spy)
    kept = {w: await query(c, q=f"{w} ") for w in ONE_WORD}  # trailing space: not a prefix
    assert sum(used) >= 8, used  # most one-word queries are answered by the kept counts

    async def none(*args, **kwargs):
        return None
    monkeypatch.setattr(facet_counts, "exact_counts", none)
    for w in ONE_WORD:
        counted = await query(c, q=f"{w} ", limit=19)  # another cache key: computed
        assert counted["exact"] is True, w  # small index: counting the matches is exact
        assert (kept[w]["total"], kept[w]["exact"]) == (counted["total"], True), w
        assert _by_value(kept[w]) == _by_value(counted), w
    assert kept["penduduk"]["total"] > 0 and kept["zzzqx"]["total"] == 0


async def test_browsing_everything_is_counted_exactly_from_the_kept_counts(
        search_app, registry_bus, monkeypatch):
    """An empty query without filters (browsing every document) is counted from the term
    every record holds: exact however many there are, where reading the matches stops at
    EXACT_UP_TO + 1 (10,000; 100 here) and answers a lower bound."""
    await _load(search_app, registry_bus)
    monkeypatch.setattr(facets, "EXACT_UP_TO", 100)
    c = search_app["client"]
    kept = await query(c, q="")
    documents = await search_app["pool"].fetchval("SELECT count(*) FROM documents")
    assert (kept["total"], kept["exact"], kept["message"]) == (documents, True, None)

    async def none(*args, **kwargs):
        return None
    monkeypatch.setattr(facet_counts, "exact_counts", none)
    read = await query(c, q="", limit=19)  # another cache key: computed
    assert (read["total"], read["exact"]) == (101 + 162, False)  # (regions, datasets: live)
    monkeypatch.setattr(facets, "EXACT_UP_TO", 10_000)
    counted = await query(c, q="", limit=18)
    assert (counted["total"], counted["exact"]) == (documents, True)
    assert _by_value(kept) == _by_value(counted)
    assert [i["id"] for i in kept["items"][:18]] == [i["id"] for i in counted["items"]]


async def _equal_to_a_recount(pool) -> bool:
    # one snapshot for both readings: the indexer may still be committing a later event
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read",
                                                        readonly=True):
        live, fresh = await facet_counts.kept(conn), await facet_counts.recounted(conn)
    assert live == fresh, sorted(set(live) ^ set(fresh))[:10]
    return True


async def test_kept_counts_follow_updates_retractions_and_renames(search_app, registry_bus):
    records = await _load(search_app, registry_bus)
    pool = search_app["pool"]
    assert await _equal_to_a_recount(pool)
    assert await pool.fetchval("SELECT count(*) FROM facet_counts") > 100
    # a record moves period, another is retracted, a dataset is renamed, a region renamed,
    # a dataset withdrawn: documents are updated and deleted
    moved = records[0].model_copy(update={"version": 2, "period": "2019"})
    gone = records[1].model_copy(update={"version": 2, "status": "retracted"})
    await registry_bus.records([moved, gone])
    await registry_bus.datasets(dataset("jumlah-penduduk", "Jumlah Warga", version=2))
    renamed = [r.model_copy(update={"version": 2, "name": r.name + " Baru"})
               if r.code == records[2].region_code else r for r in kutim_regions()]
    await registry_bus.regions(renamed)
    withdrawn = dataset("jumlah-sekolah", "Jumlah Sekolah Dasar", topic="pendidikan",
                        publisher="disdik", version=2).model_copy(update={"retracted": True})
    await registry_bus.datasets(withdrawn)

    async def settled():
        assert await pool.fetchval("SELECT count(*) FROM inbox") >= 5 + len(records) // 200
        assert await pool.fetchval(
            "SELECT count(*) FROM documents WHERE dataset = 'jumlah-sekolah'") == 0
        return await pool.fetchval(
            "SELECT count(*) FROM documents WHERE title LIKE '%Baru%'") > 0
    await eventually(settled, timeout=20)
    assert await _equal_to_a_recount(pool)
    r = await query(search_app["client"], q="sekolah ")
    assert r["exact"] is True
    assert "record" not in {v["value"] for v in r["facets"]["kind"]}  # withdrawn with it
    extra = record("jumlah-penduduk", records[3].region_code, "2031", 5)
    await registry_bus.records([extra])

    async def indexed():
        return await pool.fetchval("SELECT count(*) FROM documents WHERE period = '2031'") == 1
    await eventually(indexed)
    assert await _equal_to_a_recount(pool)


async def test_a_prefix_that_begins_one_counted_term_is_counted_exactly_from_the_kept_counts(
        search_app, registry_bus, monkeypatch):
    await _load(search_app, registry_bus)
    c = search_app["client"]
    used = []
    real = facet_counts.exact_counts

    async def spy(*args, **kwargs):
        counts = await real(*args, **kwargs)
        used.append(counts is not None)
        return counts
    monkeypatch.setattr(facet_counts, "exact_counts", spy)
    kept = await query(c, q="kombe")        # typed as a prefix: it begins "kombeng" only
    assert used == [True] and kept["exact"] is True and kept["total"] > 0

    async def none(*args, **kwargs):
        return None
    monkeypatch.setattr(facet_counts, "exact_counts", none)
    counted = await query(c, q="kombe", limit=19)  # another cache key: counted from matches
    assert (kept["total"], _by_value(kept)) == (counted["total"], _by_value(counted))


async def test_a_prefix_of_a_counted_word_is_not_widened_by_typo_corrections(
        search_app, registry_bus, monkeypatch):
    """"pendud" is "penduduk" being typed: its trigram neighbours (and their ke-an forms,
    "kependudukan" -> "duduk") are not added, so the kept counts answer it exactly (at any
    size; counting the matches is exact only up to 10,000) and it finds what "penduduk"
    finds."""
    await _load(search_app, registry_bus)
    c = search_app["client"]
    used = []
    real = facet_counts.exact_counts

    async def spy(*args, **kwargs):
        counts = await real(*args, **kwargs)
        used.append(counts is not None)
        return counts
    monkeypatch.setattr(facet_counts, "exact_counts", spy)
    typing, whole = await query(c, q="pendud"), await query(c, q="penduduk ")
    assert used == [True, True]  # both from the kept counts
    assert typing["exact"] is True and whole["exact"] is True
    assert typing["total"] == whole["total"] > 0
    assert _by_value(typing) == _by_value(whole)


# several words: a place's two-word name (its rarest word's records all hold the other), a
# prefix of one, a typo in one; and words that are not so, counted from their matches
SEVERAL_WORDS = ["muara wahau ", "wahau muara ", "muara wah", "muara ancalog ", "teluk lingga ",
                 "sangatta utara ", "kombeng indah ", "lingga swarga ", "penduduk sangatta ",
                 "sekolah kombeng ", "muara zzzqx "]


async def test_several_words_from_the_kept_counts_equal_counting_the_matches(
        search_app, registry_bus, monkeypatch):
    await _load(search_app, registry_bus)
    c = search_app["client"]
    used: dict[str, bool] = {}
    real = facet_counts.exact_counts

    async def spy(conn, q, *args, **kwargs):
        counts = await real(conn, q, *args, **kwargs)
        used.setdefault(q.text, counts is not None)
        return counts
    monkeypatch.setattr(facet_counts, "exact_counts", spy)
    kept = {w: await query(c, q=w) for w in SEVERAL_WORDS}
    assert used["muara wahau"] and used["wahau muara"] and used["muara wah"]
    assert used["muara ancalog"] and used["teluk lingga"] and used["sangatta utara"]
    assert not used["lingga swarga"]  # two places: no record holds both words
    assert not used["kombeng indah"]  # "indah" names places of other kecamatan too

    async def none(*args, **kwargs):
        return None
    monkeypatch.setattr(facet_counts, "exact_counts", none)
    for w in SEVERAL_WORDS:
        counted = await query(c, q=w, limit=19)  # another cache key: computed
        assert (kept[w]["total"], kept[w]["exact"]) == (counted["total"], True), w
        assert kept[w]["partial"] == counted["partial"], w
        assert _by_value(kept[w]) == _by_value(counted), w
    assert kept["muara wahau "]["total"] > 6 and kept["lingga swarga "]["partial"] is True


async def test_the_rarest_word_answers_only_where_its_records_hold_every_other(
        search_app, registry_bus, monkeypatch):
    """Three checks decide: the kept counts rule it out (a facet value more records with the
    rarest word have than with another), or show it (a facet whose values hold every record
    of the rarest word, each value's every record holding the others), and then the index (a
    record holding the rarest word but not the others)."""
    await _load(search_app, registry_bus)
    async with search_app["pool"].acquire() as conn:
        # every record of Wahau Baru and of the desa Muara Wahau is in kecamatan Muara Wahau,
        # and every record of that kecamatan holds "muara": the kept counts show it alone
        assert await facet_counts.contained_term(conn, ["muara", "wahau"]) == "wahau"
        assert await facet_counts.contained_term(conn, ["wahau", "~penduduk"]) is None
        # "teluk" is not in every record of Teluk Lingga's kecamatan: only the index can tell
        assert await facet_counts.contained_term(conn, ["teluk", "lingga"]) == "lingga"
        monkeypatch.setattr(facet_counts, "CONTAINED_CHECK_MAX", 0)  # (the index not asked)
        assert await facet_counts.contained_term(conn, ["muara", "wahau"]) == "wahau"
        assert await facet_counts.contained_term(conn, ["sangatta", "utara"]) == "utara"
        assert await facet_counts.contained_term(conn, ["teluk", "lingga"]) is None
        monkeypatch.undo()
        # Teluk Lingga and Swarga Bara: one kecamatan, as many records by every facet value
        # (the kept counts cannot tell), but no record holds both names
        kept = await conn.fetch(
            "SELECT term, facet, value, n FROM facet_counts WHERE term = ANY($1::text[]) "
            "ORDER BY facet, value, term", ["lingga", "swarga"])
        by = {}
        for r in kept:
            by.setdefault((r["facet"], r["value"]), {})[r["term"]] = r["n"]
        assert all(v.get("lingga", 0) <= v.get("swarga", 0) for v in by.values()), by
        assert await facet_counts.contained_term(conn, ["lingga", "swarga"]) is None
        assert await facet_counts.contained_term(conn, ["swarga", "lingga"]) is None


CONCEPT_QUERIES = ["penduduk kombeng ", "sekolah sangatta ", "laki penduduk muara wahau ",
                   "warga kombeng ", "sekolah kombeng 2024 "]
# one word with filters (its lexeme is asked for only where it stands for several)
FILTERED = {"sekolah ": {"kind": "record", "region": "64.08.08"},
            "penduduk ": {"region": "64.08.02", "period_from": "2024", "period_to": "2024"}}


async def test_a_word_is_matched_by_one_lexeme_where_the_kept_counts_show_it_finds_the_same(
        search_app, registry_bus, monkeypatch):
    """"sekolah" stands for ten lexemes (its kinds, its stem); when one of them is held by as
    many records as all of them together, that one alone finds the word's records (one
    posting list, not ten merged); answers are the same either way. A record that holds
    another lexeme of the concept only ("Jumlah Warga": warga, not penduduk) ends that."""
    records = await _load(search_app, registry_bus)
    c = search_app["client"]
    seen = {}
    real = facet_counts.words_of

    async def spy(conn, q, f, rows=None, region=None):
        words = await real(conn, q, f, rows, region)
        seen[q.text] = words
        return words
    monkeypatch.setattr(facet_counts, "words_of", spy)
    one = {w: await query(c, q=w, **FILTERED.get(w, {}))
           for w in [*CONCEPT_QUERIES, *FILTERED]}
    assert seen["penduduk kombeng"].exact[0] in ("duduk", "penduduk")
    assert seen["sekolah sangatta"].exact[0] in ("seko", "sekolah")
    assert seen["sekolah"].exact[0] in ("seko", "sekolah")  # (with filters)
    assert all(one[w]["total"] for w in FILTERED)

    async def every_alternative(conn, q, f, rows=None, region=None):
        return replace(await real(conn, q, f, rows, region), exact=())
    monkeypatch.setattr(facet_counts, "words_of", every_alternative)
    for w in [*CONCEPT_QUERIES, *FILTERED]:
        full = await query(c, q=w, limit=19, **FILTERED.get(w, {}))  # another key: computed
        assert (one[w]["total"], _by_value(one[w])) == (full["total"], _by_value(full)), w
        assert [i["id"] for i in one[w]["items"][:19]] == [i["id"] for i in full["items"]], w

    monkeypatch.setattr(facet_counts, "words_of", spy)
    await registry_bus.datasets(dataset("jumlah-warga", "Jumlah Warga", topic="sosial"))
    await registry_bus.records([record("jumlah-warga", records[0].region_code, "2024", 7)])

    async def indexed():
        return await search_app["pool"].fetchval(
            "SELECT count(*) FROM documents WHERE dataset = 'jumlah-warga'") == 2
    await eventually(indexed)
    answer = await query(c, q="penduduk kombeng  ")  # (another cache key)
    assert seen["penduduk kombeng"].exact[0] is None  # no lexeme holds every record now
    assert answer["total"] >= one["penduduk kombeng "]["total"]


# (query, filters, whether the opening statement foresees its words): every word known; a
# last word typed as a prefix of known ones ("kombe", "muara wah"); one word with filters;
# a typo, whose corrections change the words (their own statement follows)
FORESEEN = [("penduduk", {}, True), ("sangatta utara", {}, True), ("kombe", {}, True),
            ("muara wah", {}, True), ("sekolah", {"kind": "record", "region": "64.08.08"}, True),
            ("sangata utara", {}, False), ("muara ancalog", {}, False)]
# (a place is named by the words as typed: "muara wah" names none whole, nor does a typo)
NAMING_A_PLACE = {"sangatta utara"}


async def test_the_opening_statement_looks_the_words_up_where_it_can_foresee_them(
        search_app, registry_bus, monkeypatch):
    """The opening statement looks up what the kept counts hold of the query's words when
    they parse the same whatever it finds (every word known, or the last one typed as a
    prefix of known ones): no statement of their own follows. What it found equals that
    statement's finding; where a typo correction changes the words, the statement runs. The
    place a first page of several words names (for the figure a question asks) comes with it
    too, the same as its own statement finds."""
    await _load(search_app, registry_bus)
    c = search_app["client"]
    real_words, real_lexemes = facet_counts.words_of, facet_counts._lexemes
    seen, statements = [], []

    async def lexemes(conn, words):
        statements.append(words)
        return await real_lexemes(conn, words)

    async def words_of(conn, q, f, rows=None, region=None):
        words = await real_words(conn, q, f, rows, region)
        made = len(statements)  # (by the service: where nothing was foreseen)
        seen.append((rows is not None, made, words,
                     await real_words(conn, q, f) if rows is not None else words))
        return words
    real_figure, places = asked.asked_figure, []

    async def asked_figure(conn, q, place):  # (no default: the opening looked it up)
        lookup = asked.place_lookup(q)
        places.append((place, lookup and await answer_store.place_named(conn, *lookup)))
        return await real_figure(conn, q, place)
    monkeypatch.setattr(facet_counts, "words_of", words_of)
    monkeypatch.setattr(facet_counts, "_lexemes", lexemes)
    monkeypatch.setattr(asked, "asked_figure", asked_figure)
    for text, filters, foreseen in FORESEEN:
        seen.clear()
        statements.clear()
        places.clear()
        answer = await query(c, q=text, **filters)
        assert answer["total"] > 0, text
        (given, made, found, looked_up), = seen
        assert (given, made) == ((True, 0) if foreseen else (False, 1)), text
        assert found == looked_up, text  # (the lookup of its own statement)
        (place, named), = places
        assert place == named, text
        assert (place is not None) == (text in NAMING_A_PLACE), text
