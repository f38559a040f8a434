"""EventStream against a real local WebSocket server: nothing is lost between waits."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest
from websockets.sync.server import serve

from harness.core import WaitTimeoutError
from harness.domain import EventStream, EventStreamError

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
    # The one timeout format of every wait (WaitReport.render), then the timeline.
    assert message.startswith("timed out after 0.3s (timeout 0.3s, every 0.3s, "), message
    assert "waiting for a 'optimization.rolled_back' event" in message
    assert err.value.report.description == "a 'optimization.rolled_back' event"
    assert message.count("step.completed") == 3 and '"traffic_pct": 50' in message


def test_an_arriving_event_wakes_the_wait_before_its_interval(server):
    url, more = server
    with EventStream(url) as stream:
        stream.wait_for_event("step.completed", timeout=5)
        threading.Timer(0.1, more.set).start()
        started = time.monotonic()
        assert stream.wait_for_event("optimization.completed", timeout=5).entity_id == "o1"
        # Polling alone would look again only after the 1 s interval.
        assert time.monotonic() - started < 0.8


def test_a_stream_that_ended_fails_at_once_not_at_the_timeout(server):
    url, _more = server
    stream = EventStream(url)
    stream.wait_for_event("step.completed", timeout=5)
    stream.close()
    started = time.monotonic()
    with pytest.raises(EventStreamError, match=r"ended \(closed\) before a 'x\.y' event"):
        stream.wait_for_event("x.y", timeout=30)
    assert time.monotonic() - started < 1


def test_unreachable_stream_says_so():
    with pytest.raises(EventStreamError, match=r"could not open the event stream .*token=\*\*\*"):
        EventStream("ws://127.0.0.1:1/ws/events?token=secret", connect_timeout=1)
