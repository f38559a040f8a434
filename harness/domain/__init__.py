"""OptiInfra domain layer: the stack's spec, store clients, (later) typed client and waits."""

from ._stores import (
    Endpoints,
    aws_client,
    clickhouse_connect,
    postgres_connect,
    qdrant_connect,
    redis_connect,
)
from ._spec import (
    AWS_REGION,
    COMPOSE_FILE,
    DEFAULT_ADMIN_TOKEN,
    PORTS,
    POSTGRES_DB,
    POSTGRES_PASSWORD,
    POSTGRES_USER,
    REPO_ROOT,
    stack_config,
)

__all__ = [
    "AWS_REGION",
    "COMPOSE_FILE",
    "DEFAULT_ADMIN_TOKEN",
    "Endpoints",
    "PORTS",
    "POSTGRES_DB",
    "POSTGRES_PASSWORD",
    "POSTGRES_USER",
    "REPO_ROOT",
    "aws_client",
    "clickhouse_connect",
    "postgres_connect",
    "qdrant_connect",
    "redis_connect",
    "stack_config",
]
