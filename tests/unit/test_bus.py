"""NATS subject matching used to skip foreign messages on servers older than 2.10."""


def test_subject_matching_follows_nats_wildcards():
    from shared.bus import subject_matches

    assert subject_matches("registry.*.changed.v1", "registry.records.changed.v1")
    assert not subject_matches("registry.*.changed.v1", "registry.submissions.processed.v1")
    assert subject_matches("ns.ingest.>", "ns.ingest.submissions.chunk.v1")
    assert not subject_matches("ns.ingest.>", "ns.ingest")
    assert not subject_matches("a.b", "a.b.c")


# --- the failure decision table, case by case ----------------------------------------------

import asyncio  # noqa: E402

import asyncpg  # noqa: E402
import nats.errors  # noqa: E402
import pytest  # noqa: E402
from pydantic import BaseModel, ValidationError  # noqa: E402

from shared.bus import Decision, Permanent, RetryPolicy, decide  # noqa: E402
from shared.errors import NotFound  # noqa: E402


def _validation_error() -> ValidationError:
    class M(BaseModel):
        n: int
    try:
        M(n="x")
    except ValidationError as exc:
        return exc
    raise AssertionError


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(111, "refused"),                      # database/NATS unreachable
    ConnectionResetError(104, "reset"),                          # a connection drops
    asyncpg.exceptions.ConnectionDoesNotExistError("closed mid-operation"),
    asyncpg.InterfaceError("cannot call Connection.fetchval(): connection is closed"),
    asyncpg.InterfaceError("cannot call Connection.fetch(): connection has been released back "
                           "to the pool"),
    asyncpg.exceptions.AdminShutdownError("terminating connection"),  # 57P01 restart
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
    asyncpg.exceptions.SerializationError("could not serialize access"),
    asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
    asyncpg.exceptions.TooManyConnectionsError("too many clients"),
    asyncio.TimeoutError(),                                      # pool acquire timed out
    nats.errors.ConnectionClosedError(),
    nats.errors.NoServersError(),
], ids=type)
def test_a_dependency_away_is_waited_for(exc):
    assert decide(exc) is Decision.WAIT


@pytest.mark.parametrize("exc", [
    asyncpg.exceptions.InvalidTextRepresentationError("invalid input syntax for type integer"),
    asyncpg.exceptions.NumericValueOutOfRangeError("out of range"),     # 22003
    asyncpg.exceptions.UniqueViolationError("duplicate key"),           # 23505
    asyncpg.exceptions.NotNullViolationError("null value"),             # 23502
    _validation_error(),                                                # contract mismatch
    Permanent("unknown dataset"),
    NotFound("Dataset tidak ada.", code="dataset_not_found"),
    ValueError("envelope of type 'x' is not 'y'"),
], ids=type)
def test_bad_data_goes_to_the_dead_letters_at_once(exc):
    assert decide(exc) is Decision.DEADLETTER


@pytest.mark.parametrize("exc", [
    RuntimeError("a bug"),
    KeyError("x"),
    asyncpg.exceptions.UndefinedTableError("relation does not exist"),  # 42P01
    asyncpg.InterfaceError("another operation is in progress"),
], ids=type)
def test_anything_else_is_retried_a_bounded_number_of_times(exc):
    assert decide(exc) is Decision.RETRY


def test_retry_backoff_is_exponential_and_capped():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert [policy.retry_delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_consumers_never_let_jetstream_drop_a_message():
    from shared.bus import consumer_config

    config = consumer_config("d", ["a.b"], ack_wait=5.0)
    assert config.max_deliver == -1 and config.ack_wait == 5.0
