"""A Qdrant-compatible REST server over Qdrant's own engine (`qdrant-edge-py`).

One engine shard per collection, persisted under the storage folder. Serves the
subset of Qdrant's REST API that `qdrant-client` needs for collections and points.
"""

from ._app import create_app
from ._routes_service import SERVER_VERSION

__all__ = ["SERVER_VERSION", "create_app"]
