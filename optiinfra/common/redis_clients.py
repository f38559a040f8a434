"""Redis clients that ride out a server restart: commands retry on connection errors."""

from __future__ import annotations

import redis
import redis.asyncio as aredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

RETRY_ON = [redis.ConnectionError, redis.TimeoutError]
OPTIONS = {"decode_responses": True, "socket_timeout": 10, "socket_connect_timeout": 5,
           "health_check_interval": 10, "retry_on_error": RETRY_ON}


def sync_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 5),
                                **OPTIONS)


def async_client(url: str) -> aredis.Redis:
    return aredis.Redis.from_url(url, retry=AsyncRetry(ExponentialBackoff(cap=1.0, base=0.05),
                                                       5), **OPTIONS)
