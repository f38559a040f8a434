"""Collections on disk: one engine shard per collection, its config in JSON beside it.

Layout under the storage root::

    collections/<name>/config.json   written last: a folder without it is a failed create
    collections/<name>/shard/        the qdrant_edge shard (segments + WAL)
    trash/<uuid>/                    deleted collections, removed right after the move
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as qe
from pydantic import BaseModel, ConfigDict

from ._errors import ApiError, bad_input, collection_exists, collection_not_found, from_engine
from ._models import SparseVectorParams, VectorParams, VectorsConfig

log = logging.getLogger("qdrant_compat.storage")
T = TypeVar("T")

_DISTANCES = {
    "Cosine": qe.Distance.Cosine,
    "Euclid": qe.Distance.Euclid,
    "Dot": qe.Distance.Dot,
    "Manhattan": qe.Distance.Manhattan,
}
# Qdrant's own rule (validate_collection_name), plus what a folder name cannot be.
_INVALID_NAME_CHARS = '<>:"/\\|?*\0'


class CollectionConfig(BaseModel):
    """What `PUT /collections/{name}` asked for, as persisted in config.json."""

    model_config = ConfigDict(extra="ignore")

    vectors: VectorsConfig | None = None
    sparse_vectors: dict[str, SparseVectorParams] | None = None
    metadata: dict[str, Any] | None = None
    created_at: str | None = None

    @property
    def dense(self) -> dict[str, VectorParams]:
        """Dense vectors by name; the unnamed vector is called ""."""
        if isinstance(self.vectors, VectorParams):
            return {"": self.vectors}
        return dict(self.vectors or {})

    @property
    def sparse(self) -> dict[str, SparseVectorParams]:
        return dict(self.sparse_vectors or {})

    def edge_config(self) -> qe.EdgeConfig:
        dense = {
            name: qe.EdgeVectorParams(size=p.size, distance=_DISTANCES[p.distance])
            for name, p in self.dense.items()
        }
        sparse = {
            name: qe.EdgeSparseVectorParams(
                modifier=qe.Modifier.Idf if p.modifier == "idf" else None
            )
            for name, p in self.sparse.items()
        }
        vectors: Any = dense.get("") if isinstance(self.vectors, VectorParams) else dense
        return qe.EdgeConfig(vectors=vectors or None, sparse_vectors=sparse or None)


class Collection:
    """An open shard. Use it only through `Storage.use`, which holds `lock`."""

    def __init__(self, name: str, path: Path, config: CollectionConfig, shard: Any) -> None:
        self.name = name
        self.path = path
        self.config = config
        self.shard = shard
        self.lock = threading.Lock()
        self.closed = False
        self._operations = 0

    def next_operation_id(self) -> int:
        self._operations += 1
        return self._operations

    def engine(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call the engine, answering its exceptions with Qdrant's error shape."""
        try:
            return method(*args, **kwargs)
        except ApiError:
            raise
        except Exception as exc:
            raise from_engine(exc) from exc

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.shard.flush()
        finally:
            self.shard.close()


def validate_name(name: str) -> None:
    reason = None
    if not 1 <= len(name) <= 255:
        reason = "collection name must be between 1 and 255 characters long"
    elif name in (".", ".."):
        reason = f"collection name cannot be {name!r}"
    else:
        bad = next((c for c in name if c in _INVALID_NAME_CHARS or ord(c) < 0x20), None)
        if bad is not None:
            reason = f"collection name cannot contain {bad!r} char"
    if reason:
        raise ApiError(422, f"Validation error in path parameters: [name: {reason}]")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Storage:
    """All collections under one root; safe to use from many threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._collections_dir = self.root / "collections"
        self._trash_dir = self.root / "trash"
        self._lock = threading.Lock()  # guards the registry; taken before any collection lock
        self._collections: dict[str, Collection] = {}

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        """Load every complete collection; clear what failed creates and deletes left."""
        self._collections_dir.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self._trash_dir, ignore_errors=True)
        for folder in sorted(self._collections_dir.iterdir()):
            if not folder.is_dir():
                continue
            config_file = folder / "config.json"
            if not config_file.exists():
                log.warning("removing incomplete collection folder %s", folder)
                shutil.rmtree(folder, ignore_errors=True)
                continue
            config = CollectionConfig.model_validate_json(config_file.read_text("utf-8"))
            try:
                shard = qe.EdgeShard.load(str(folder / "shard"))
            except Exception as exc:  # a broken shard must not pass for an empty one
                raise RuntimeError(f"cannot load collection {folder.name!r}: {exc}") from exc
            self._collections[folder.name] = Collection(folder.name, folder, config, shard)
        log.info("loaded %d collection(s) from %s", len(self._collections), self.root)

    def close(self) -> None:
        with self._lock:
            collections, self._collections = list(self._collections.values()), {}
        for collection in collections:
            with collection.lock:
                try:
                    collection.close()
                except Exception:
                    log.exception("failed to close collection %r", collection.name)

    # -- registry --------------------------------------------------------------------

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._collections)

    def exists(self, name: str) -> bool:
        with self._lock:
            return name in self._collections

    def create(self, name: str, config: CollectionConfig) -> None:
        validate_name(name)
        if not config.dense and not config.sparse:
            raise bad_input("a collection needs at least one dense or sparse vector")
        config.created_at = datetime.now(UTC).isoformat()
        with self._lock:
            if name in self._collections:
                raise collection_exists(name)
            folder = self._collections_dir / name
            shutil.rmtree(folder, ignore_errors=True)  # leftover of a failed create
            folder.mkdir(parents=True)
            try:
                shard = qe.EdgeShard.create(str(folder / "shard"), config.edge_config())
            except Exception as exc:
                shutil.rmtree(folder, ignore_errors=True)
                raise from_engine(exc) from exc
            collection = Collection(name, folder, config, shard)
            self.save_config(collection)  # last: it marks the folder as complete
            self._collections[name] = collection

    def save_config(self, collection: Collection) -> None:
        """Persist a changed config; the caller holds the collection's lock."""
        text = collection.config.model_dump_json(exclude_none=True)
        _write_atomic(collection.path / "config.json", text)

    def delete(self, name: str) -> bool:
        with self._lock:
            collection = self._collections.pop(name, None)
            if collection is None:
                return False
            with collection.lock:  # waits for requests in flight on this collection
                collection.close()
            # Move first so a crash mid-delete never leaves a half collection behind.
            self._trash_dir.mkdir(parents=True, exist_ok=True)
            trash = self._trash_dir / uuid.uuid4().hex
            os.replace(collection.path, trash)
        shutil.rmtree(trash, ignore_errors=True)
        return True

    @contextmanager
    def use(self, name: str) -> Iterator[Collection]:
        """Hold one collection's lock for the duration of a request."""
        with self._lock:
            collection = self._collections.get(name)
        if collection is None:
            raise collection_not_found(name)
        with collection.lock:
            if collection.closed:  # deleted while we waited
                raise collection_not_found(name)
            yield collection
