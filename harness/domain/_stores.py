"""Where each service of a running stack answers on the host, and real clients for each store."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from harness.core import StackConfig, wait_for

from ._spec import (
    AWS_REGION,
    DEFAULT_ADMIN_TOKEN,
    POSTGRES_DB,
    POSTGRES_PASSWORD,
    POSTGRES_USER,
)

T = TypeVar("T")

# A healthy container can still refuse the first connection for a moment (e.g. a restart):
# connecting is retried this long, on the errors each client really raises for "not there
# (yet)" and nothing else (a wrong password or database fails at once).
CONNECT_TIMEOUT_S = 15.0
CONNECT_INTERVAL_S = 0.5


def postgres_transient() -> tuple[type[BaseException], ...]:
    import psycopg

    # refused, reset, timed out, "the database system is starting up"
    return (psycopg.OperationalError,)


def redis_transient() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    # ConnectionError covers BusyLoadingError (Redis still loading its dataset)
    return (RedisConnectionError, RedisTimeoutError)


def clickhouse_transient() -> tuple[type[BaseException], ...]:
    from clickhouse_driver.errors import NetworkError, SocketTimeoutError

    # clickhouse-driver wraps socket errors in NetworkError / SocketTimeoutError; a server that
    # drops the connection mid-answer surfaces as a bare EOFError
    return (NetworkError, SocketTimeoutError, EOFError)


def _connect(what: str, ep: Endpoints, port: int, attempt: Callable[[], T],
             transient: tuple[type[BaseException], ...], timeout: float) -> T:
    return wait_for(attempt, timeout=timeout, interval=CONNECT_INTERVAL_S, transient=transient,
                    until=lambda _client: True,
                    description=f"{what} at {ep.host}:{port} to accept a connection")


class Endpoints(BaseModel):
    """Host-side addresses of the stack's services (the engine's host, offset ports)."""

    host: str = "127.0.0.1"
    postgres_port: int
    clickhouse_http_port: int
    clickhouse_native_port: int
    redis_port: int
    qdrant_port: int
    aws_port: int
    orchestrator_port: int
    portal_port: int
    admin_token: str = DEFAULT_ADMIN_TOKEN

    @classmethod
    def from_config(cls, config: StackConfig) -> Endpoints:
        p = {spec.name: config.host_port(spec) for spec in config.ports}
        return cls(
            host=config.host,  # 127.0.0.1, or a remote engine's host (DOCKER_HOST, context)
            postgres_port=p["POSTGRES"], clickhouse_http_port=p["CLICKHOUSE_HTTP"],
            clickhouse_native_port=p["CLICKHOUSE_NATIVE"], redis_port=p["REDIS"],
            qdrant_port=p["QDRANT"], aws_port=p["AWS"], orchestrator_port=p["ORCHESTRATOR"],
            portal_port=p["PORTAL"],
            admin_token=os.environ.get("E2E_ADMIN_TOKEN", DEFAULT_ADMIN_TOKEN),
        )

    @property
    def postgres_dsn(self) -> str:
        return (f"postgresql://{POSTGRES_USER}:{POSTGRES_PASSWORD}@{self.host}:"
                f"{self.postgres_port}/{POSTGRES_DB}")

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host}:{self.redis_port}/0"

    @property
    def clickhouse_http_url(self) -> str:
        return f"http://{self.host}:{self.clickhouse_http_port}"

    @property
    def qdrant_url(self) -> str:
        return f"http://{self.host}:{self.qdrant_port}"

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def portal_url(self) -> str:
        return f"http://{self.host}:{self.portal_port}"

    @property
    def orchestrator_url(self) -> str:
        return f"http://{self.host}:{self.orchestrator_port}"


def postgres_connect(ep: Endpoints, *, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    import psycopg

    def attempt() -> Any:
        return psycopg.connect(ep.postgres_dsn, connect_timeout=5)

    return _connect("postgres", ep, ep.postgres_port, attempt, postgres_transient(), timeout)


def redis_connect(ep: Endpoints, *, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    import redis

    def attempt() -> Any:
        client = redis.Redis.from_url(ep.redis_url, socket_timeout=5, decode_responses=True)
        client.ping()
        return client

    return _connect("redis", ep, ep.redis_port, attempt, redis_transient(), timeout)


def clickhouse_connect(ep: Endpoints, *, timeout: float = CONNECT_TIMEOUT_S) -> Any:
    from clickhouse_driver import Client

    def attempt() -> Any:
        client = Client(host=ep.host, port=ep.clickhouse_native_port, connect_timeout=5)
        client.execute("SELECT 1")
        return client

    return _connect("clickhouse", ep, ep.clickhouse_native_port, attempt,
                    clickhouse_transient(), timeout)


def qdrant_connect(ep: Endpoints) -> Any:
    from qdrant_client import QdrantClient

    return QdrantClient(url=ep.qdrant_url, timeout=10, check_compatibility=False)


def aws_client(ep: Endpoints, service: str, region: str = AWS_REGION) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=ep.aws_url, region_name=region,
                        aws_access_key_id="test", aws_secret_access_key="test")
