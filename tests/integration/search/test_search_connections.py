"""The search service's pool skips the session reset on release (shared.db.create_pool with
``session_state=False``): what a search sets is transaction-scoped, so nothing of it reaches the
next answer on the same connection."""

from __future__ import annotations

import asyncpg

from services.search import service
from services.search.cache import AnswerCache
from services.search.models import Filters
from shared.db import create_pool, to_asyncpg_dsn


async def test_a_released_search_connection_keeps_nothing_of_the_answer(database_url, search_db):
    fresh = await asyncpg.connect(to_asyncpg_dsn(database_url))
    try:
        defaults = [await fresh.fetchval(f"SHOW {name}")
                    for name in ("statement_timeout", "work_mem", "jit", "plan_cache_mode")]
    finally:
        await fresh.close()
    pool = await create_pool(database_url, "search", min_size=1, max_size=1,
                             session_state=False)
    try:
        sent: list[str] = []
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda q: sent.append(q.query))
        for text in ("penduduk", "sangatta utara 2024", "kongbeng sekolah"):
            await service.search(pool, AnswerCache(0), text, Filters(), limit=5, cursor=None,
                                 prefix=True, typo_similarity=0.45, facet_values_max=50,
                                 statement_timeout_ms=1234)
        assert any("set_config('statement_timeout'" in q for q in sent)
        assert not any("RESET ALL" in q or "pg_advisory_unlock_all" in q for q in sent)
        async with pool.acquire() as conn:
            assert [await conn.fetchval(f"SHOW {name}") for name in (
                "statement_timeout", "work_mem", "jit", "plan_cache_mode")] == defaults
            assert await conn.fetchval("SELECT count(*) FROM pg_locks WHERE pid = "
                                       "pg_backend_pid() AND locktype = 'advisory'") == 0
            assert not conn.is_in_transaction()
    finally:
        await pool.close()
