"""The benchmarks' sample (contoh) rows are rows the registry takes: real periods (a year in
shared.reporting_calendar.YEARS) and distinct keys. Rows it refuses are measured as
rejections, and a bench waiting for them to become searchable waits forever (make bench's
first step did, with years from 5000 up, after the registry began refusing unreal periods)."""

from __future__ import annotations

from bench.bench_e2e import FIRST_YEAR, villages
from bench.bench_replay import submission_rows
from bench.common import sample_rows
from shared.reporting_calendar import valid_period


def _keys(rows: list[dict]) -> set[tuple[str, str, str]]:
    assert all(valid_period("annual", r["period"]) for r in rows), \
        sorted({r["period"] for r in rows if not valid_period("annual", r["period"])})[:3]
    keys = {(r["region"], r["period"], r["jenis_kelamin"]) for r in rows}
    assert len(keys) == len(rows)
    return keys


def test_the_e2e_bench_rows_are_real_periods_for_two_runs():
    places = villages()
    first = sample_rows(20_000, places, FIRST_YEAR)
    after = max(int(r["period"]) for r in first) + 1
    second = sample_rows(20_000, places, after)
    assert not _keys(first) & _keys(second)


def test_the_replay_bench_rows_are_real_periods_and_villages_never_collide():
    codes = villages()
    rows = [row for i in range(1000) for row in submission_rows(i, codes, 20, FIRST_YEAR + 71)]
    _keys(rows)


def test_the_backlog_and_replica_bench_rows_are_real_periods():
    from bench.bench_village_backlog import row_batches

    places = villages()
    _keys([row for batch in row_batches(54_000, places, 1000) for row in batch])
    start, runs = FIRST_YEAR, []
    for _ in range(3):  # make bench: three replica counts of 18,000 rows on one database
        runs.append(sample_rows(18_000, places, start))
        start = max(int(r["period"]) for r in runs[-1]) + 1
    _keys([row for run in runs for row in run])


def test_the_e2e_rows_over_a_preload_are_the_next_year_of_preloaded_keys():
    from bench.bench_registry import Keys
    from bench.e2e_preload import workload

    places = villages()
    work = workload(1_000_000, len(places), 20_000)
    rows = sample_rows(20_000, places, 2025, work)
    keys = {(r["region"], r["period"], r["item"]) for r in rows}
    assert len(keys) == len(rows) and {r["period"] for r in rows} == {"2025"}
    assert {r["region"] for r in rows} == set(places)
    from bench.bench_e2e import windows  # counted by kecamatan, each below search's exact 10,000
    counted = windows(rows, len(places) * len(work.codes))
    assert sum(counted.values()) == len(rows) and max(counted.values()) < 10_000
    assert all(w[2] for w in counted)
    preloaded = Keys(places)
    stored = {preloaded.key(i) for i in range(1_000_000)}
    # each new row is the year after ten stored years of its own key
    assert all((r["region"], str(year), r["item"]) in stored
               for r in rows for year in range(2015, 2025))
