"""Fast tests of the qdrant service: the app runs in-process, no Docker."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "compose" / "qdrant"))

import uvicorn
from qdrant_client import QdrantClient
from qdrant_compat import create_app

READY_TIMEOUT = 15.0


class RunningServer:
    """uvicorn serving the app from a background thread on a socket bound up front."""

    def __init__(self, storage: Path) -> None:
        self.storage = storage
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))  # bound here, so no other test can take the port
        port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(create_app(storage), log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("qdrant_compat server exited during startup")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.02)  # poll interval, bounded by the deadline above
        raise TimeoutError(f"qdrant_compat not ready within {READY_TIMEOUT}s")

    def stop(self) -> None:
        self._server.should_exit = True  # graceful: lifespan shutdown closes the shards
        self._thread.join(timeout=READY_TIMEOUT)
        self._socket.close()
        if self._thread.is_alive():
            raise TimeoutError("qdrant_compat server did not stop")


@pytest.fixture
def storage_dir(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def start_server() -> Iterator[type[RunningServer]]:
    """Start servers on demand (restart tests); every one is stopped at teardown."""
    started: list[RunningServer] = []

    class Tracked(RunningServer):
        def start(self) -> RunningServer:
            started.append(self)
            return super().start()

    yield Tracked
    for server in started:
        if server._thread.is_alive():
            server.stop()


@pytest.fixture(scope="session")
def server_class() -> type[RunningServer]:
    """For module-scoped servers a test module sets up itself."""
    return RunningServer


def _drop_all_collections(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10.0) as raw:
        for collection in raw.get("/collections").json()["result"]["collections"]:
            raw.delete(f"/collections/{collection['name']}").raise_for_status()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    # Starting and stopping uvicorn costs ~0.4 s; one server per module keeps tests fast.
    running = RunningServer(tmp_path_factory.mktemp("storage")).start()
    yield running
    running.stop()


@pytest.fixture
def server(shared_server: RunningServer) -> Iterator[RunningServer]:
    """A running server with no collections; restart tests use `start_server` instead."""
    _drop_all_collections(shared_server.url)
    yield shared_server
    _drop_all_collections(shared_server.url)


def make_client(url: str) -> QdrantClient:
    # The version check runs in a fire-and-forget thread that may outlive a short test
    # (and warn once the server is gone); test_qdrant_service.py runs it synchronously instead.
    return QdrantClient(url=url, check_compatibility=False)


@pytest.fixture
def connect() -> Iterator[Callable[[str], QdrantClient]]:
    """Clients for servers a test starts itself; all closed at teardown."""
    clients: list[QdrantClient] = []

    def connect_to(url: str) -> QdrantClient:
        clients.append(make_client(url))
        return clients[-1]

    yield connect_to
    for qdrant in clients:
        qdrant.close()


@pytest.fixture
def client(server: RunningServer) -> Iterator[QdrantClient]:
    qdrant = make_client(server.url)
    yield qdrant
    qdrant.close()


@pytest.fixture
def http(server: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10.0) as raw:
        yield raw
