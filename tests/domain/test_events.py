"""EventStream against a real local WebSocket server: nothing is lost between waits."""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from websockets.sync.server import serve

from harness.core import WaitTimeoutError
from harness.domain import EventStream

pytestmark = pytest.mark.unit


@pytest.fixture
def server():
    """Sends three events at once on connect, then one more when told to."""
    more = threading.Event()

    def handler(ws):
        for i in range(3):
            ws.send(json.dumps({"type": "step.completed", "entity_id": "o1",
                                "data": {"traffic_pct": [10, 50, 100][i]}}))
        more.wait(5)
        ws.send(json.dumps({"type": "optimization.completed", "entity_id": "o1", "data": {}}))
        with contextlib.suppress(Exception):  # the client closed
            ws.recv()  # hold the connection until the client closes

    with serve(handler, "127.0.0.1", 0) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{srv.socket.getsockname()[1]}", more
        srv.shutdown()


def test_events_sent_before_the_wait_are_found(server):
    url, more = server
    with EventStream(url) as stream:
        e = stream.wait_for_event("step.completed", lambda e: e.data["traffic_pct"] == 100,
                                  timeout=5)
        assert e.data == {"traffic_pct": 100}
        # An event already consumed by a wait is still there for the next one.
        first = stream.wait_for_event("step.completed", timeout=1)
        assert first.data == {"traffic_pct": 10}
        more.set()
        assert stream.wait_for_event("optimization.completed", timeout=5).entity_id == "o1"
        assert [ev.type for ev in stream.snapshot()].count("step.completed") == 3


def test_timeout_shows_the_timeline(server):
    url, _more = server
    with EventStream(url) as stream:
        stream.wait_for_event("step.completed", lambda e: e.data["traffic_pct"] == 100,
                              timeout=5)
        with pytest.raises(WaitTimeoutError) as err:
            stream.wait_for_event("optimization.rolled_back", timeout=0.3)
    message = str(err.value)
    assert "no 'optimization.rolled_back' event within 0.3s" in message
    assert message.count("step.completed") == 3 and '"traffic_pct": 50' in message


def test_unreachable_stream_says_so():
    from harness.domain import EventStreamError

    with pytest.raises(EventStreamError, match=r"could not open the event stream .*token=\*\*\*"):
        EventStream("ws://127.0.0.1:1/ws/events?token=secret", connect_timeout=1)
