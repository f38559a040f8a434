"""Secrets never reach a file the harness writes: every shape a token travels in."""

from __future__ import annotations

import json

import pytest

from harness.core import mask_data, mask_text
from harness.reporting import BundleWriter, safe_name

pytestmark = [pytest.mark.unit, pytest.mark.security, pytest.mark.req("REQ-REPORT-02")]

SECRET = "s3cr3t-value-123"


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /ws/events?token=abc123 HTTP/1.1", "GET /ws/events?token=*** HTTP/1.1"),
    ("ws://h:3001/ws/events?a=1&token=abc&b=2", "ws://h:3001/ws/events?a=1&token=***&b=2"),
    ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
    ('{"authorization": "Bearer abc"}', '{"authorization": "Bearer ***"}'),
    ("X-Admin-Token: e2e-admin-token", "X-Admin-Token: ***"),
    ('{"x-admin-token": "e2e-admin-token"}', '{"x-admin-token": "***"}'),
    ('{"api_token": "abc", "name": "x"}', '{"api_token": "***", "name": "x"}'),
    ("{'api_token': 'abc', 'name': 'x'}", "{'api_token': '***', 'name': 'x'}"),
    ("E2E_ADMIN_TOKEN=abc other", "E2E_ADMIN_TOKEN=*** other"),
    ("postgresql://optiinfra:pw@127.0.0.1:5433/db", "postgresql://optiinfra:***@127.0.0.1:5433/db"),
    ('{"detail": "invalid token"}', '{"detail": "invalid token"}'),  # words stay
    ("max_tokens=5 tokens", "max_tokens=5 tokens"),
])
def test_mask_text_shapes(text, expected):
    assert mask_text(text) == expected


def test_exact_secrets_are_masked_wherever_they_appear():
    text = f"customer token {SECRET} leaked in a log line; again:{SECRET}."
    assert mask_text(text, [SECRET]) == "customer token *** leaked in a log line; again:***."


def test_mask_data_masks_secret_named_fields_at_any_depth():
    data = {"id": "c1", "api_token": SECRET, "nested": [{"Authorization": "Bearer x"},
                                                        {"password": "pw", "count": 3}],
            "token_count": 5}
    assert mask_data(data) == {"id": "c1", "api_token": "***", "nested": [
        {"Authorization": "***"}, {"password": "***", "count": 3}], "token_count": 5}


def test_every_file_a_bundle_writes_is_masked(tmp_path):
    bundle = BundleWriter(tmp_path, "run-1", secrets=[SECRET]).bundle("a/b.py::test_c[x]")
    bundle.text("logs/portal.log", f"GET /ws/events?token={SECRET}\n")
    bundle.json("x.json", {"body": {"api_token": "abc"}, "url": f"/x?token={SECRET}",
                           "echo": f"says {SECRET}"})
    bundle.error(f"ApiError: POST /api/v1/customers {{'api_token': '{SECRET}'}}")
    bundle.finish(f"FAILED: {SECRET}")
    assert bundle.path == tmp_path / "run-1" / "a.b.py__test_c[x]"
    for f in bundle.path.rglob("*"):
        if f.is_file():
            assert SECRET not in f.read_text(), f
    assert json.loads((bundle.path / "x.json").read_text())["body"]["api_token"] == "***"


def test_safe_names_are_unique_and_bounded(tmp_path):
    assert safe_name("scenarios/test_x.py::TestA::test_b[g5.2xlarge-4]") == \
        "scenarios.test_x.py__TestA__test_b[g5.2xlarge-4]"
    assert safe_name("t.py::test[a b/c]") == "t.py__test[a_b.c]"
    long_a, long_b = safe_name("t.py::" + "a" * 300), safe_name("t.py::" + "a" * 299 + "b")
    assert len(long_a) == 120 and long_a != long_b
    writer = BundleWriter(tmp_path, "run")
    first, second = writer.bundle("t.py::test"), writer.bundle("t.py::test")
    assert (first.path.name, second.path.name) == ("t.py__test", "t.py__test-2")
