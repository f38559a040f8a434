"""Shared FastAPI dependencies and the update-result shape."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from ._storage import Collection, Storage


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]


def update_result(collection: Collection, wait: bool | None) -> dict[str, Any]:
    # The engine applies updates synchronously; `wait=false` still answers like Qdrant.
    status = "acknowledged" if wait is False else "completed"
    return {"operation_id": collection.next_operation_id(), "status": status}
