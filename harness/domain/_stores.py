"""Where each service of a running stack answers on the host, and real clients for each store."""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from harness.core import StackConfig

from ._spec import (
    AWS_REGION,
    DEFAULT_ADMIN_TOKEN,
    POSTGRES_DB,
    POSTGRES_PASSWORD,
    POSTGRES_USER,
)

# A healthy container can still refuse the first connection for a moment (e.g. a restart).
_connect_retry = retry(
    retry=retry_if_exception_type((ConnectionError, OSError)),
    stop=stop_after_delay(15),
    wait=wait_exponential(multiplier=0.2, max=2),
    reraise=True,
)


class Endpoints(BaseModel):
    """Host-side addresses of the stack's services (127.0.0.1, offset ports)."""

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


@_connect_retry
def postgres_connect(ep: Endpoints) -> Any:
    import psycopg

    return psycopg.connect(ep.postgres_dsn, connect_timeout=5)


@_connect_retry
def redis_connect(ep: Endpoints) -> Any:
    import redis

    client = redis.Redis.from_url(ep.redis_url, socket_timeout=5, decode_responses=True)
    client.ping()
    return client


@_connect_retry
def clickhouse_connect(ep: Endpoints) -> Any:
    from clickhouse_driver import Client

    client = Client(host=ep.host, port=ep.clickhouse_native_port, connect_timeout=5)
    client.execute("SELECT 1")
    return client


def qdrant_connect(ep: Endpoints) -> Any:
    from qdrant_client import QdrantClient

    return QdrantClient(url=ep.qdrant_url, timeout=10, check_compatibility=False)


def aws_client(ep: Endpoints, service: str, region: str = AWS_REGION) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=ep.aws_url, region_name=region,
                        aws_access_key_id="test", aws_secret_access_key="test")
