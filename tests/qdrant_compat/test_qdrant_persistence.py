"""Data survives restarts: graceful ones in-process, and a SIGKILL of the real CLI."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from qdrant_client import QdrantClient, models

PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "compose" / "qdrant"
UUID_ID = "0b9c2a4e-0d4f-4b8e-9f55-2f3c1e7a6d10"
START_TIMEOUT = 30.0


def seed(client: QdrantClient) -> None:
    client.create_collection("docs", models.VectorParams(size=3, distance=models.Distance.DOT))
    client.upsert(
        "docs",
        [
            models.PointStruct(id=1, vector=[1, 0, 0], payload={"lang": "en", "n": 1}),
            models.PointStruct(id=2, vector=[0, 1, 0], payload={"lang": "de", "n": 2}),
            models.PointStruct(id=UUID_ID, vector=[0, 0, 1], payload={"lang": "en", "n": 3}),
        ],
    )
    client.create_collection(
        "named",
        vectors_config={"a": models.VectorParams(size=2, distance=models.Distance.COSINE)},
        metadata={"owner": "tests"},
    )
    client.upsert("named", [models.PointStruct(id=7, vector={"a": [0.6, 0.8]})])


def check_seeded(client: QdrantClient) -> None:
    assert sorted(c.name for c in client.get_collections().collections) == ["docs", "named"]
    assert client.count("docs").count == 3
    english = models.Filter(
        must=[models.FieldCondition(key="lang", match=models.MatchValue(value="en"))]
    )
    hits = client.query_points("docs", query=[0, 0, 1], query_filter=english, with_vectors=True)
    assert [(h.id, h.vector) for h in hits.points] == [(UUID_ID, [0, 0, 1]), (1, [1, 0, 0])]
    info = client.get_collection("named")
    assert info.config.params.vectors == {
        "a": models.VectorParams(size=2, distance=models.Distance.COSINE)
    }
    assert info.config.metadata == {"owner": "tests"}
    assert client.retrieve("named", [7], with_vectors=True)[0].vector == {"a": [0.6, 0.8]}


def test_graceful_restart_keeps_everything(start_server, connect, storage_dir: Path) -> None:
    first = start_server(storage_dir).start()
    client = connect(first.url)
    seed(client)
    client.create_payload_index("docs", "n", models.PayloadSchemaType.INTEGER)
    client.create_collection("gone", models.VectorParams(size=2, distance=models.Distance.DOT))
    client.delete_collection("gone")
    client.delete("docs", models.PointIdsList(points=[2]))
    client.upsert("docs", [models.PointStruct(id=2, vector=[0, 1, 0], payload={"lang": "de"})])
    first.stop()

    second = start_server(storage_dir).start()
    client = connect(second.url)
    check_seeded(client)
    assert client.collection_exists("gone") is False
    assert client.retrieve("docs", [2])[0].payload == {"lang": "de"}
    assert "n" in client.get_collection("docs").payload_schema
    records, _ = client.scroll("docs", order_by=models.OrderBy(key="n", direction="desc"))
    assert [r.id for r in records] == [UUID_ID, 1]
    # and it still takes writes
    client.upsert("docs", [models.PointStruct(id=4, vector=[1, 1, 1])])
    assert client.count("docs").count == 4


def test_rejected_write_leaves_no_trace_after_restart(
    start_server, connect, storage_dir: Path
) -> None:
    # The engine logs updates it then rejects; the server must stop them before that.
    first = start_server(storage_dir).start()
    client = connect(first.url)
    seed(client)
    with httpx.Client(base_url=first.url) as raw:
        bad_name = {"points": [{"id": 50, "vector": {"zz": [1, 2]}}]}
        assert raw.put("/collections/named/points", json=bad_name).status_code == 400
        bad_dim = {"points": [{"id": 51, "vector": [1, 2]}]}
        assert raw.put("/collections/docs/points", json=bad_dim).status_code == 400
    first.stop()

    second = start_server(storage_dir).start()
    client = connect(second.url)
    assert client.retrieve("named", [50]) == []
    assert client.retrieve("docs", [51]) == []
    check_seeded(client)


class Subprocess:
    """`python -m qdrant_compat` as the image runs it, on a port the OS picks."""

    def __init__(self, storage: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "qdrant_compat", "--host", "127.0.0.1", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--storage", str(storage)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        self.url = self._wait_for_url()

    def _pump(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            match = re.search(r"Uvicorn running on (http://\S+)", line)
            if match:
                return match.group(1)
        self.kill()
        raise RuntimeError("qdrant_compat did not start:\n" + "".join(seen))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.wait()

    def wait(self) -> int:
        """Wait for the exit, then release the log pipe (else a ResourceWarning)."""
        code = self.process.wait(timeout=START_TIMEOUT)
        self._pump_thread.join(timeout=START_TIMEOUT)
        if self.process.stderr is not None:
            self.process.stderr.close()
        return code

    def log_lines(self) -> list[str]:
        lines = []
        while not self._lines.empty():
            lines.append(self._lines.get_nowait())
        return lines


@pytest.fixture
def launch() -> Iterator[type[Subprocess]]:
    started: list[Subprocess] = []

    class Tracked(Subprocess):
        def __init__(self, storage: Path) -> None:
            super().__init__(storage)
            started.append(self)

    yield Tracked
    for process in started:
        process.kill()


def test_cli_survives_sigkill(launch, connect, storage_dir: Path) -> None:
    first = launch(storage_dir)
    client = connect(first.url)
    seed(client)
    first.kill()  # no shutdown hook runs: the engine's WAL must carry the writes

    second = launch(storage_dir)
    client = connect(second.url)
    check_seeded(client)


def test_cli_sigterm_is_a_clean_shutdown(launch, connect, storage_dir: Path) -> None:
    first = launch(storage_dir)
    client = connect(first.url)
    seed(client)
    first.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert first.wait() in (0, -signal.SIGTERM)
    assert any("Application shutdown complete" in line for line in first.log_lines())

    second = launch(storage_dir)
    client = connect(second.url)
    check_seeded(client)


def test_incomplete_collection_folder_is_cleared_on_start(
    start_server, connect, storage_dir: Path
) -> None:
    # What a crash between "make the folder" and "write config.json" leaves behind.
    (storage_dir / "collections" / "half" / "shard").mkdir(parents=True)
    running = start_server(storage_dir).start()
    client = connect(running.url)
    assert client.get_collections().collections == []
    client.create_collection("half", models.VectorParams(size=2, distance=models.Distance.DOT))
    assert client.collection_exists("half")
