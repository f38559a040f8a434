"""Store connections retry exactly what each real client raises while its store is not there.

Each client is pointed at a closed local port (refused at once: no Docker, no sleeping). With
``timeout=0`` one attempt is made: a WaitTimeoutError caused by the client's own exception
proves that exception is classified transient (anything else would propagate as itself)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from harness.core import WaitTimeoutError
from harness.domain import Endpoints, clickhouse_connect, postgres_connect, redis_connect
from harness.domain._stores import clickhouse_transient, postgres_transient, redis_transient

pytestmark = pytest.mark.unit


@pytest.fixture
def closed() -> Endpoints:
    with socket.socket() as s:  # a port nothing listens on (just freed)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return Endpoints(postgres_port=port, clickhouse_http_port=port, clickhouse_native_port=port,
                     redis_port=port, qdrant_port=port, aws_port=port, orchestrator_port=port,
                     portal_port=port)


@pytest.mark.parametrize(("connect", "transient", "name"), [
    (postgres_connect, postgres_transient, "postgres"),
    (redis_connect, redis_transient, "redis"),
    (clickhouse_connect, clickhouse_transient, "clickhouse"),
])
def test_a_refused_connection_is_retried_then_reported(
        closed: Endpoints, connect: Callable[..., Any],
        transient: Callable[[], tuple[type[BaseException], ...]], name: str) -> None:
    with pytest.raises(WaitTimeoutError) as err:
        connect(closed, timeout=0)
    cause = err.value.__cause__
    assert isinstance(cause, transient()), type(cause)
    # The client's own class, not the builtin the old retry listed (and never saw).
    assert not isinstance(cause, ConnectionError | OSError), type(cause).__mro__
    message = str(err.value)
    port = closed.postgres_port
    assert message.startswith("timed out after "), message
    assert f"waiting for {name} at 127.0.0.1:{port} to accept a connection" in message
    assert f"last exception: {type(cause).__name__}" in message


def test_transient_lists_are_the_clients_own_errors() -> None:
    import psycopg
    import redis.exceptions
    from clickhouse_driver import errors

    assert postgres_transient() == (psycopg.OperationalError,)
    assert set(redis_transient()) == {redis.exceptions.ConnectionError,
                                      redis.exceptions.TimeoutError}
    assert issubclass(redis.exceptions.BusyLoadingError, redis_transient())
    assert set(clickhouse_transient()) >= {errors.NetworkError, errors.SocketTimeoutError}
    # A bad query or schema is not "not there yet".
    assert not issubclass(psycopg.ProgrammingError, postgres_transient())
    assert not issubclass(errors.ServerException, clickhouse_transient())
