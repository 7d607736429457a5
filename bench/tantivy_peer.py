"""The peer search engine the search benchmark measures against: tantivy (a Rust search library
of Lucene's kind, pip ``tantivy``) over the same documents, served by a sync FastAPI endpoint in
the same uvicorn stack as the project's search service.

Set up as the speed issue describes, so the comparison is fair and repeatable:
- each document's tsvector lexemes (already Indonesian stems) split by weight into ``title``
  (A and B), ``ctx`` (C) and ``vals`` (D), boosted 1.0 / 0.1 / 0.02, in position order (phrases);
- the six facets as raw-text fast fields, counted with terms aggregations (size 50,
  ``segment_size`` 2,000 so they stay exact); ``region_anc`` (a code and its ancestors) and an
  integer period as filters;
- query words parsed by the project's own ``services/search/query_text.py`` and stemmed with
  PyStemmer's Indonesian snowball (the stems PostgreSQL's ``indonesian`` configuration makes);
  a word not in the term dictionary is matched by a fuzzy term query (Levenshtein 1, and 2 from
  6 letters); the last word also as a prefix unless it is a known term;
- each answer: ``search(count=True)`` for the top 20 and the exact total, then ``aggregate()``
  for the facets.

    PEER_INDEX=/path/to/index uvicorn --factory bench.tantivy_peer:create_app
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable

import Stemmer
import tantivy
from fastapi import FastAPI

from services.search.query_text import parse_words

FIELDS = {"title": 1.0, "ctx": 0.1, "vals": 0.02}
WEIGHT_FIELD = {"A": "title", "B": "title", "C": "ctx", "D": "vals"}
FACETS = ("kind", "dataset", "topic", "publisher", "kecamatan", "period")
LEXEME = re.compile(r"'((?:[^']|'')*)':([0-9A-D,]+)")
STEM = Stemmer.Stemmer("indonesian")


def schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("doc_id", stored=True, tokenizer_name="raw")
    for name in FIELDS:
        b.add_text_field(name, tokenizer_name="whitespace", index_option="position")
    for name in FACETS:
        b.add_text_field(name, fast=True, tokenizer_name="raw")
    b.add_text_field("region_anc", tokenizer_name="raw")
    b.add_integer_field("period_int", indexed=True, fast=True)
    return b.build()


def period_int(period: str | None, *, upper: bool = False) -> int | None:
    """2024 -> 202400 (202499 as an upper bound); 2024-05 -> 202405; 2024-S1 -> 202401."""
    if not period or not period[:4].isdigit():
        return None
    rest = period[5:]
    sub = int(re.sub(r"\D", "", rest) or 0) if rest else (99 if upper else 0)
    return int(period[:4]) * 100 + min(sub, 99)


def split_tsvector(tsv: str) -> dict[str, str]:
    """A tsvector's text form -> the lexemes of each field, in position order."""
    placed: dict[str, list[tuple[int, str]]] = {f: [] for f in FIELDS}
    for lexeme, positions in LEXEME.findall(tsv):
        word = lexeme.replace("''", "'").replace(" ", "_")
        for p in positions.split(","):
            weight = p[-1] if p[-1] in "ABCD" else "D"
            placed[WEIGHT_FIELD[weight]].append((int(p.rstrip("ABCD")), word))
    return {f: " ".join(w for _p, w in sorted(v)) for f, v in placed.items()}


def writer(path: str, heap: int = 256_000_000):
    """A writer on a new index in ``path`` (``add`` batches, then ``commit``)."""
    return tantivy.Index(schema(), path=path).writer(heap)


def add(writer, docs: Iterable[dict[str, Any]]) -> int:
    """Add documents (as exported from search.documents); returns how many."""
    n = 0
    for d in docs:
        doc = tantivy.Document()
        doc.add_text("doc_id", d["doc_id"])
        for field, text in split_tsvector(d["tsv"]).items():
            if text:
                doc.add_text(field, text)
        for name in FACETS:
            value = d.get("kecamatan_code" if name == "kecamatan" else name)
            if value:
                doc.add_text(name, value)
        code = d.get("region_code") or ""
        parts = code.split(".") if code else []
        for i in range(1, len(parts) + 1):
            doc.add_text("region_anc", ".".join(parts[:i]))
        p = period_int(d.get("period"))
        if p is not None:
            doc.add_integer("period_int", p)
        writer.add_document(doc)
        n += 1
    return n


def commit(writer) -> None:
    writer.commit()
    writer.wait_merging_threads()


class Peer:
    def __init__(self, path: str) -> None:
        self.index = tantivy.Index.open(path)
        self.schema = self.index.schema
        self.index.reload()
        self.searcher = self.index.searcher()

    def _known(self, stem: str) -> bool:
        return any(self.searcher.doc_freq(f, stem) for f in FIELDS)

    def _word(self, alt: str, prefix: str | None) -> tantivy.Query:
        """One alternative of a typed word over the three fields, boosted."""
        if " <-> " in alt:  # a spelled-out name: a phrase in the title
            return tantivy.Query.phrase_query(
                self.schema, "title", [STEM.stemWord(w) for w in alt.split(" <-> ")])
        stem = STEM.stemWord(alt)
        if self._known(stem) or alt.isdigit():
            per_field = [tantivy.Query.term_query(self.schema, f, stem) for f in FIELDS]
        else:  # a typo: the closest terms of the dictionary
            distance = 2 if len(alt) >= 6 else 1
            per_field = [tantivy.Query.fuzzy_term_query(self.schema, f, stem, distance)
                         for f in ("title", "ctx")]
        qs = [tantivy.Query.boost_query(q, FIELDS[f]) for q, f in zip(per_field, FIELDS)]
        if prefix is not None and not self._known(STEM.stemWord(prefix)):
            qs += [tantivy.Query.boost_query(tantivy.Query.regex_query(
                self.schema, f, re.escape(prefix) + ".*"), FIELDS[f]) for f in ("title", "ctx")]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in qs])

    def query(self, q: str, filters: dict[str, str]) -> tantivy.Query:
        parsed = parse_words(q, True, {})
        must: list[tuple[tantivy.Occur, tantivy.Query]] = []
        last = len(parsed.groups) - 1
        for i, group in enumerate(parsed.groups):
            prefix = parsed.prefix if i == last else None
            alts = [self._word(a, prefix if j == 0 else None) for j, a in enumerate(group)]
            must.append((tantivy.Occur.Must, tantivy.Query.boolean_query(
                [(tantivy.Occur.Should, a) for a in alts])))
        for name in ("kind", "dataset", "topic", "publisher"):
            if filters.get(name):
                must.append((tantivy.Occur.Must, tantivy.Query.term_query(
                    self.schema, name, filters[name])))
        if filters.get("region"):
            must.append((tantivy.Occur.Must, tantivy.Query.term_query(
                self.schema, "region_anc", filters["region"])))
        low = period_int(filters.get("period_from"))
        high = period_int(filters.get("period_to"), upper=True)
        if low is not None or high is not None:
            must.append((tantivy.Occur.Must, tantivy.Query.range_query(
                self.schema, "period_int", tantivy.FieldType.Integer, low, high)))
        if not must:
            return tantivy.Query.all_query()
        if not parsed.groups:
            must.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(must)

    def search(self, q: str, filters: dict[str, str], limit: int = 20) -> dict:
        query = self.query(q, filters)
        result = self.searcher.search(query, limit, count=True)
        items = [self.searcher.doc(addr)["doc_id"][0] for _score, addr in result.hits]
        aggs = self.searcher.aggregate(query, {
            name: {"terms": {"field": name, "size": 50, "segment_size": 2000}}
            for name in FACETS})
        facets = {name: [{"value": b["key"], "count": b["doc_count"]}
                         for b in aggs.get(name, {}).get("buckets", [])] for name in FACETS}
        return {"total": result.count, "items": items, "facets": facets}


def create_app() -> FastAPI:
    app = FastAPI(title="tantivy peer (benchmark only)")
    peer = Peer(os.environ["PEER_INDEX"])

    @app.get("/v1/search")
    def search(q: str = "", kind: str | None = None, dataset: str | None = None,
               topic: str | None = None, publisher: str | None = None,
               region: str | None = None, period_from: str | None = None,
               period_to: str | None = None, limit: int = 20) -> dict:
        filters = {k: v for k, v in dict(kind=kind, dataset=dataset, topic=topic,
                                         publisher=publisher, region=region,
                                         period_from=period_from,
                                         period_to=period_to).items() if v}
        return peer.search(q, filters, limit)

    @app.get("/readyz")
    def ready() -> dict:
        return {"status": "ok"}
    return app
