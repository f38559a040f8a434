"""Customers and their API tokens (only a token's hash is stored)."""

from __future__ import annotations

import hashlib
import secrets

from ..common.db import Database
from ..common.edge import BoundedCache
from ..common.messages import new_id
from ..common.models import CustomerPublic


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Customers:
    def __init__(self, db: Database) -> None:
        self.db = db
        # token hash -> customer id (customers never change); only known tokens get in
        self._cache: BoundedCache[str, str] = BoundedCache(10_000)

    async def create(self, name: str) -> CustomerPublic:
        cid, token = new_id(), "oi_" + secrets.token_urlsafe(32)
        async with self.db.tx() as conn:
            await conn.execute("INSERT INTO customers (id, name, token_hash) VALUES (%s, %s, %s)",
                               (cid, name, token_hash(token)))
            await conn.execute(
                "INSERT INTO audit (customer_id, entity_type, entity_id, action, to_status) "
                "VALUES (%s, 'customer', %s, 'created', 'active')", (cid, cid))
        return CustomerPublic(id=cid, name=name, api_token=token)

    async def by_token(self, token: str) -> str | None:
        h = token_hash(token)
        cached = self._cache.get(h)
        if cached is not None:
            return cached
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT id FROM customers WHERE token_hash = %s", (h,))
            row = await cur.fetchone()
        if row:
            self._cache.put(h, row["id"])
            return row["id"]
        return None

    async def get(self, cid: str) -> dict:
        async with self.db.tx() as conn:
            cur = await conn.execute("SELECT id, name, created_at FROM customers WHERE id = %s",
                                     (cid,))
            return await cur.fetchone() or {}
