"""Properties of the master records, checked on a real PostgreSQL with generated streams.

Each example starts from emptied record tables in one migrated, seeded database; example
counts stay modest so the file runs in seconds.
"""

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.registry import consumers
from services.registry.publishing import apply
from services.registry.statistics import service as statistics
from shared.contracts import Envelope, SubmissionChunkV1

SLUG = "jumlah-penduduk"
AUTHORITY = "disdukcapil"
DESA = "64.08.04.2001"
KEYS = [(DESA, "L"), (DESA, "P"), ("64.08.04.2011", "L")]
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


async def _reset(pool):
    await pool.execute("TRUNCATE registry.conflicts, registry.record_versions, registry.records,"
                       " registry.inbox, registry.outbox")


def _rows(chunk):
    return [{"region": region, "period": "2024", "jenis_kelamin": sex, "jumlah": value}
            for (region, sex), value in chunk]


async def _deliver(pool, envelope):
    """What shared.bus does per message: the inbox row and the effect in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        first = await conn.fetchval(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING "
            "RETURNING true", consumers.DURABLE, envelope.event_id)
        if first:
            await consumers.handle_chunk(conn, envelope)


async def _state(pool):
    rows = await pool.fetch(
        """SELECT r.region_code, r.dims->>'jenis_kelamin' AS sex, (r.vals->>'jumlah')::int AS v,
                  r.version, (SELECT count(*) FROM registry.record_versions h
                              WHERE h.record_id = r.id) AS versions
           FROM registry.records r""")
    return {(r["region_code"], r["sex"]): (r["v"], r["version"], r["versions"]) for r in rows}


chunks = st.lists(st.lists(st.tuples(st.sampled_from(KEYS), st.integers(0, 3)),
                           min_size=1, max_size=4), min_size=1, max_size=5)


@PROPERTY
@given(submissions=chunks, data=st.data())
async def test_shuffled_stream_with_redeliveries_gives_the_state_of_its_first_deliveries(
        registry_db, submissions, data):
    pool, _ = registry_db
    await _reset(pool)
    envelopes = [Envelope.wrap(SubmissionChunkV1(
        submission_id=uuid.uuid4(), dataset=SLUG, publisher_id=AUTHORITY, chunk=0, chunks=1,
        row_offset=0, rows=_rows(c))) for c in submissions]
    order = data.draw(st.permutations(range(len(envelopes))))
    redeliveries = data.draw(st.lists(st.sampled_from(range(len(envelopes))), max_size=6))
    stream = list(order)
    for i in redeliveries:  # a redelivery comes after the first delivery, anywhere later
        first = stream.index(i)
        stream.insert(data.draw(st.integers(first + 1, len(stream))), i)
    model: dict = {}
    seen: set = set()
    previous: dict = {}
    for i in stream:
        await _deliver(pool, envelopes[i])
        if i not in seen:
            seen.add(i)
            last = {}
            repeated = [k for k, _ in submissions[i]]
            for key, value in submissions[i]:
                if repeated.count(key) == 1:  # rows repeating a key in one chunk: all refused
                    last[key] = value
            for key, value in last.items():
                values = model.setdefault(key, [])
                if not values or values[-1] != value:
                    values.append(value)
        state = await _state(pool)
        for key, (_, version, _) in state.items():
            assert version >= previous.get(key, 0)  # versions only grow
        previous = {k: v[1] for k, v in state.items()}
    state = await _state(pool)
    assert {k: v[0] for k, v in state.items()} == {k: v[-1] for k, v in model.items()}
    # one version per distinct value change, the current one being the last
    assert {k: (v[1], v[2]) for k, v in state.items()} == {
        k: (len(v), len(v)) for k, v in model.items()}
    # replaying every submission (new event ids, as a re-upload) changes nothing
    for c in submissions:
        await _deliver(pool, Envelope.wrap(SubmissionChunkV1(
            submission_id=uuid.uuid4(), dataset=SLUG, publisher_id=AUTHORITY, chunk=0, chunks=1,
            row_offset=0, rows=_rows([(k, model[k][-1]) for k in dict.fromkeys(k for k, _ in c)
                                      if k in model]))))
    assert await _state(pool) == state


PUBLISHERS = [AUTHORITY, f"desa-{DESA}", "kec-sangatta-utara"]


@PROPERTY
@given(steps=st.lists(st.tuples(st.sampled_from(PUBLISHERS), st.sampled_from(KEYS),
                                st.integers(0, 2)), min_size=1, max_size=10))
async def test_authority_wins_and_others_open_one_conflict_per_record_and_publisher(
        registry_db, steps):
    pool, _ = registry_db
    await _reset(pool)
    await _ensure_kecamatan_publisher(pool)
    master: dict = {}  # key -> (value, publisher)
    open_: dict = {}  # (key, publisher) -> proposed value
    for publisher, key, value in steps:
        async with pool.acquire() as conn, conn.transaction():
            outcome = await apply.apply_rows(conn, dataset_slug=SLUG, publisher_id=publisher,
                                               rows=_rows([(key, value)]))
        if publisher == f"desa-{DESA}" and key[0] != DESA:
            assert [r.code for r in outcome.rejected] == ["region_out_of_scope"]
            continue
        assert outcome.rejected == []
        current = master.get(key)
        if current is None or (current[0] != value and (
                publisher == AUTHORITY or current[1] == publisher)):
            master[key] = (value, publisher)
            for (k, p), proposed in list(open_.items()):
                if k == key and proposed == value:
                    del open_[(k, p)]  # the new master value settles that disagreement
        elif current[0] == value:
            open_.pop((key, publisher), None)  # the publisher agrees now
        else:
            open_[(key, publisher)] = value
    state = await _state(pool)
    assert {k: v[0] for k, v in state.items()} == {k: v[0] for k, v in master.items()}
    rows = await pool.fetch(
        """SELECT r.region_code, r.dims->>'jenis_kelamin' AS sex, c.proposed_publisher,
                  (c.proposed_vals->>'jumlah')::int AS v
           FROM registry.conflicts c JOIN registry.records r ON r.id = c.record_id
           WHERE c.status = 'open'""")
    assert {((r["region_code"], r["sex"]), r["proposed_publisher"]): r["v"] for r in rows} == open_


async def _ensure_kecamatan_publisher(pool):
    from services.registry.access import store

    async with pool.acquire() as conn:
        await store.upsert_publisher(conn, id="kec-sangatta-utara", name="Kecamatan Sangatta Utara",
                                     kind="kecamatan", region_scope="64.08.04",
                                     datasets=[SLUG])


@pytest.fixture
async def villages(registry_db):
    pool, _ = registry_db
    rows = await pool.fetch("SELECT code FROM registry.regions WHERE level IN ('desa','kelurahan') "
                            "ORDER BY code")
    return [r["code"] for r in rows]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_scope_of_desa_kecamatan_and_opd_publishers(registry_db, villages, data):
    pool, _ = registry_db
    await _ensure_kecamatan_publisher(pool)
    region = data.draw(st.sampled_from(villages))
    publisher, scope = data.draw(st.sampled_from([
        (AUTHORITY, "64.08"), (f"desa-{DESA}", DESA), ("kec-sangatta-utara", "64.08.04")]))
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            outcome = await apply.apply_rows(conn, dataset_slug=SLUG, publisher_id=publisher,
                                               rows=_rows([((region, "L"), 1)]), dry_run=True)
        finally:
            await tx.rollback()
    allowed = region == scope or region.startswith(scope + ".")
    assert [r.code for r in outcome.rejected] == ([] if allowed else ["region_out_of_scope"])


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_aggregates_and_completeness_equal_direct_counts(registry_db, villages, data):
    pool, _ = registry_db
    await _reset(pool)
    reported = data.draw(st.lists(st.sampled_from(villages), max_size=30, unique=True))
    values = {(v, s): data.draw(st.integers(0, 5000)) for v in reported
              for s in data.draw(st.sets(st.sampled_from("LP"), min_size=1))}
    if values:
        async with pool.acquire() as conn, conn.transaction():
            await apply.apply_rows(conn, dataset_slug=SLUG, publisher_id=AUTHORITY,
                                     rows=_rows(list(values.items())))
    kecamatan = data.draw(st.sampled_from(sorted({v[:8] for v in villages})))
    async with pool.acquire() as conn:
        for region in ("64.08", kecamatan):
            got = await statistics.aggregate(conn, SLUG, period="2024", measures=["jumlah"],
                                             region=region, dims={})
            direct = await conn.fetchval(
                "SELECT sum((vals->>'jumlah')::int) FROM registry.records "
                "WHERE region_code LIKE $1 || '.%'", region)
            inside = [(v, s) for (v, s) in values if v.startswith(region + ".")]
            assert got["value"] == direct == (sum(values[k] for k in inside) if inside else None)
            assert got["reporting"] == len({v for v, _ in inside})
            assert got["expected"] == sum(1 for v in villages if v.startswith(region + "."))
        full = await statistics.completeness(conn, SLUG, period="2024", region=None)
    assert (full["reported"], full["missing"]) == (len(reported), len(villages) - len(reported))
    assert sum(k["reported"] for k in full["kecamatan"]) == len(reported)
    assert {u["code"] for u in full["regions"] if u["status"] != "missing"} == set(reported)
