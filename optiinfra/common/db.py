"""Postgres access: an async pool that survives server restarts, the schema, transactions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)
SCHEMA = Path(__file__).with_name("schema.sql")
SCHEMA_LOCK = 7_340_001  # pg_advisory_lock key: services starting together apply it once


class Database:
    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 10) -> None:
        # check_connection drops connections a Postgres restart broke before handing them out.
        self.pool = AsyncConnectionPool(
            dsn, min_size=min_size, max_size=max_size, open=False, timeout=10,
            # connect_timeout: an attempt against a restarting server fails fast and is
            # retried, instead of holding a pool slot while clients wait.
            kwargs={"row_factory": dict_row, "autocommit": False, "connect_timeout": 3},
            check=AsyncConnectionPool.check_connection, reconnect_timeout=3600,
        )

    async def open(self) -> None:
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[psycopg.AsyncConnection]:
        """One transaction: committed on success, rolled back on any error."""
        async with self.pool.connection() as conn, conn.transaction():
            yield conn

    async def ensure_schema(self) -> None:
        async with self.tx() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            await conn.execute(SCHEMA.read_text())

    async def ping(self) -> bool:
        try:
            async with self.pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
            return False
