"""Search use cases: index registry events, answer queries, rebuild from the registry."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import unicodedata
from datetime import datetime, timezone
from typing import Any, Sequence

import asyncpg
import httpx

from services.search import store
from services.search.models import Cursor, Filters, ParsedQuery, SearchResults
from shared.contracts import (DatasetsChangedV1, DatasetV1, Envelope, RecordsChangedV1,
                              RecordV1, RegionsChangedV1, RegionV1)
from shared.errors import BadRequest, ServiceUnavailable

MAX_WORDS = 12
WORD = re.compile(r"[0-9a-z]+")


# --- indexing ------------------------------------------------------------------------------

async def apply_regions(conn: asyncpg.Connection, regions: Sequence[RegionV1]) -> None:
    await store.lock_exclusive(conn)
    changed = await store.upsert_regions(conn, regions)
    if not changed:
        return
    await store.refresh_region_ancestry(conn)
    await store.refresh_vocabulary(conn)
    # a renamed kecamatan changes the ancestry of every desa below it
    await store.build_region_docs(conn, None)
    await store.build_record_docs(conn, region_codes=changed)
    await store.bump_index_version(conn)


async def apply_datasets(conn: asyncpg.Connection, datasets: Sequence[DatasetV1]) -> None:
    await store.lock_exclusive(conn)
    changed = await store.upsert_datasets(conn, datasets)
    if not changed:
        return
    await store.refresh_vocabulary(conn)
    await store.build_dataset_docs(conn, changed)
    await store.build_record_docs(conn, datasets=changed)
    await store.bump_index_version(conn)


async def apply_records(conn: asyncpg.Connection, records: Sequence[RecordV1 | tuple]) -> None:
    """One set-based pass: COPY the batch, keep the newest version, (re)build its documents."""
    await store.lock_shared(conn)
    await store.stage_records(conn, records)
    await store.upsert_staged_records(conn)
    await store.build_record_docs(
        conn, record_ids=[r.record_id if isinstance(r, RecordV1) else r[0] for r in records])
    await store.bump_index_version(conn)


async def apply_envelope(conn: asyncpg.Connection, envelope: Envelope) -> str:
    """Index one registry event; returns the kind of event it was."""
    if envelope.type == RecordsChangedV1.subject:
        event = envelope.open(RecordsChangedV1)
        if event.records:
            await apply_records(conn, event.records)
        return "records"
    if envelope.type == RegionsChangedV1.subject:
        event = envelope.open(RegionsChangedV1)
        if event.regions:
            await apply_regions(conn, event.regions)
        return "regions"
    if envelope.type == DatasetsChangedV1.subject:
        event = envelope.open(DatasetsChangedV1)
        if event.datasets:
            await apply_datasets(conn, event.datasets)
        return "datasets"
    raise ValueError(f"search does not index {envelope.type!r}")


def event_lag_seconds(envelope: Envelope, now: datetime | None = None) -> float:
    """From the registry event (occurred_at) to now: what the freshness histogram observes."""
    now = now or datetime.now(timezone.utc)
    return max(0.0, (now - envelope.occurred_at).total_seconds())


# --- queries -------------------------------------------------------------------------------

def words_of(text: str) -> list[str]:
    """Lower-case ASCII words (accents folded), at most MAX_WORDS of them."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return WORD.findall(folded)[:MAX_WORDS]


def affix_variants(word: str) -> list[str]:
    """Forms the Indonesian stemmer does not bring together on its own.

    The snowball stemmer reduces "pembangunan" and "bangun" alike, but "kependudukan" becomes
    "nduduk" while "penduduk" becomes "duduk": the ke-...-an circumfix is tried both ways.
    """
    out = [word]
    if word.isdigit() or len(word) < 4:
        return out
    if word.startswith("ke") and word.endswith("an") and len(word) > 7:
        out.append(word[2:-2])
    elif not word.endswith("an"):
        out.append(f"ke{word}an")
    return out


def parse_words(text: str, prefix: bool, fixes: dict[str, list[str]]) -> ParsedQuery:
    """Pure: typed words + typo corrections -> the groups of alternatives the store ORs."""
    words = words_of(text)
    if not words:
        return ParsedQuery(text="", corrected="")
    groups = []
    for w in words:
        alts: list[str] = []
        for form in [w, *fixes.get(w, [])]:
            for v in affix_variants(form):
                if v not in alts:
                    alts.append(v)
        groups.append(tuple(alts))
    corrected = " ".join(fixes.get(w, [w])[0] for w in words)
    last_is_prefix = prefix and not text.endswith(" ") and len(words[-1]) >= 2
    return ParsedQuery(text=" ".join(words), corrected=corrected, groups=tuple(groups),
                       prefix=words[-1] if last_is_prefix else None)


async def parse_query(conn: asyncpg.Connection, text: str, *, prefix: bool,
                      typo_similarity: float) -> ParsedQuery:
    words = words_of(text)
    typo_candidates = [w for w in dict.fromkeys(words) if len(w) >= 4 and not w.isdigit()]
    fixes = await store.corrections(conn, typo_candidates, typo_similarity)
    return parse_words(text, prefix, fixes)


def query_hash(q: str, f: Filters) -> str:
    raw = json.dumps([q, f.__dict__], sort_keys=True, default=str)
    return hashlib.sha1(raw.encode()).hexdigest()[:12]


def encode_cursor(c: Cursor) -> str:
    raw = json.dumps({"s": c.score, "i": c.doc_id, "n": c.snapshot, "h": c.query_hash,
                      "r": c.ranked})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, expected_hash: str) -> Cursor:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        cursor = Cursor(score=float(raw["s"]), doc_id=str(raw["i"]), snapshot=int(raw["n"]),
                        query_hash=str(raw["h"]), ranked=bool(raw.get("r", True)))
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest("Kursor tidak valid.", code="invalid_cursor") from exc
    if cursor.query_hash != expected_hash:
        raise BadRequest("Kursor ini milik pencarian lain; mulai lagi dari halaman pertama.",
                         code="invalid_cursor")
    return cursor


URLS = {"dataset": "/v1/datasets/{}", "region": "/v1/regions/{}", "record": "/v1/records/{}"}


async def search(pool: asyncpg.Pool, text: str, filters: Filters, *, limit: int,
                 cursor: str | None, prefix: bool, typo_similarity: float,
                 facet_values_max: int, statement_timeout_ms: int,
                 rank_limit: int = 5000) -> SearchResults:
    qhash = query_hash(text, filters)
    position = decode_cursor(cursor, qhash) if cursor else None
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await store.prepare_search_session(conn, statement_timeout_ms)
        parsed = await parse_query(conn, text, prefix=prefix, typo_similarity=typo_similarity)
        try:
            page = await store.search(conn, parsed, filters, limit=limit + 1, cursor=position,
                                      facet_values_max=facet_values_max,
                                      rank_limit=rank_limit)
        except asyncpg.QueryCanceledError as exc:
            raise ServiceUnavailable("Pencarian terlalu lama; persempit kata kunci atau filter.",
                                     code="search_timeout") from exc
        titles = await store.dataset_titles(
            conn, [f["value"] for f in page.facets.get("dataset", [])])
    for fv in page.facets.get("dataset", []):
        fv["label"] = titles.get(fv["value"])
    items = page.items[:limit]
    next_cursor = None
    if len(page.items) > limit:
        last = items[-1]
        next_cursor = encode_cursor(Cursor(score=last["score"], doc_id=last["doc_id"],
                                           snapshot=page.snapshot, query_hash=qhash,
                                           ranked=page.ranked))
    for item in items:
        item["url"] = URLS[item["kind"]].format(item.pop("doc_id").split(":", 1)[1])
    return SearchResults(query=text, items=items, total=page.total, next_cursor=next_cursor,
                         facets={name: page.facets.get(name, []) for name in
                                 ("kind", "dataset", "topic", "kecamatan", "period",
                                  "publisher")})


# --- rebuild -------------------------------------------------------------------------------

async def _snapshot(client: httpx.AsyncClient, registry_url: str, kind: str, page: int):
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": page}
        if after:
            params["after"] = after
        resp = await client.get(f"{registry_url.rstrip('/')}/internal/v1/snapshot/{kind}",
                                params=params)
        resp.raise_for_status()
        body = resp.json()
        yield body["items"]
        after = body.get("next")
        if not after:
            return


async def reindex(client: httpx.AsyncClient, pool: asyncpg.Pool, registry_url: str, *,
                  page: int = 5000, progress=None) -> dict[str, int]:
    """Rebuild every document from the registry's snapshot, in one transaction.

    Same store functions as the live index, so both produce the same documents. Live events
    arriving meanwhile wait on the index lock and apply afterwards (never to an older version).
    """
    counts = {"regions": 0, "datasets": 0, "records": 0}
    async with pool.acquire() as conn, conn.transaction():
        await store.lock_exclusive(conn)
        await store.truncate_all(conn)
        regions = [RegionV1.model_validate(x)
                   async for items in _snapshot(client, registry_url, "regions", page)
                   for x in items]
        datasets = [DatasetV1.model_validate(x)
                    async for items in _snapshot(client, registry_url, "datasets", page)
                    for x in items]
        if regions:
            await apply_regions(conn, regions)
        if datasets:
            await apply_datasets(conn, datasets)
        counts["regions"], counts["datasets"] = len(regions), len(datasets)
        async for items in _snapshot(client, registry_url, "records", page):
            if items:
                await apply_records(conn, [RecordV1.model_validate(x) for x in items])
            counts["records"] += len(items)
            if progress:
                progress(counts["records"])
    return counts
