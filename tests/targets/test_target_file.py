"""The url target's file: parsed into addresses, and every mistake named by key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.targets import (
    TargetError,
    TargetFileError,
    UrlEndpoints,
    key_line,
    load_target_file,
    resolve_target,
)

REPO = Path(__file__).resolve().parents[2]
GOOD = """\
name = "staging"
portal_url = "https://portal.staging.example/"
admin_token_env = "STAGING_ADMIN_TOKEN"

[datastores]
postgres = "db.internal:5432"
qdrant = "http://vectors.internal:6333"

[simulator]
aws_url = "http://sim.internal:4566"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text)
    return path


def test_a_good_file_gives_the_addresses_and_the_token_from_the_named_variable(tmp_path):
    f = load_target_file(write(tmp_path, GOOD))
    assert (f.name, f.portal_url, f.orchestrator_url) == (
        "staging", "https://portal.staging.example", None)
    assert sorted(f.datastores) == ["postgres", "qdrant"]
    ep = UrlEndpoints.from_file(f, {"STAGING_ADMIN_TOKEN": "s3cret"})
    assert ep.portal_url == "https://portal.staging.example"
    assert ep.aws_url == "http://sim.internal:4566"
    assert ep.qdrant_url == "http://vectors.internal:6333"
    assert ep.postgres_dsn.endswith("@db.internal:5432/optiinfra")
    assert ep.admin_token == "s3cret"
    assert UrlEndpoints.from_file(f, {}).admin_token == ""


def test_the_example_target_file_parses():
    f = load_target_file(REPO / "targets" / "example-url.toml")
    assert f.orchestrator_url and f.aws_url and len(f.datastores) == 4


@pytest.mark.parametrize(("text", "key", "line", "words"), [
    (GOOD.replace('name = "staging"', 'name = "staging"\nportal = "x"'), "portal", 2,
     "unknown key"),
    (GOOD.replace("https://portal.staging.example/", "portal.staging.example"), "portal_url", 2,
     "http:// or https:// URL"),
    (GOOD.replace('"STAGING_ADMIN_TOKEN"', '"eyJhbGciOi.J9-x"'), "admin_token_env", 3,
     "NAME of an environment variable"),
    (GOOD.replace('"db.internal:5432"', '"db.internal"'), "datastores.postgres", 6,
     "host:port"),
    (GOOD.replace("qdrant =", "mongo ="), "datastores.mongo", 7, "unknown datastore"),
    (GOOD.replace("aws_url", "aws"), "simulator.aws", 10, "unknown key"),
    (GOOD.replace('name = "staging"', 'name = 42'), "name", 1, "non-empty string"),
    (GOOD.replace('[datastores]', '[datastores'), "", 5, "not valid TOML"),
])
def test_a_bad_file_names_the_key_and_its_line(tmp_path, text, key, line, words):
    path = write(tmp_path, text)
    with pytest.raises(TargetFileError) as err:
        load_target_file(path)
    assert (err.value.key, err.value.line) == (key or "", line)
    assert f"{path}:{line}" in str(err.value) and words in str(err.value)
    assert "eyJhbGciOi" not in str(err.value)  # a pasted token is never echoed


def test_a_missing_portal_url_is_named(tmp_path):
    with pytest.raises(TargetFileError, match="portal_url: required key is missing"):
        load_target_file(write(tmp_path, 'name = "x"\n'))


def test_key_line_looks_inside_the_right_table():
    text = 'aws_url = "a"\n[simulator]\naws_url = "b"\n'
    assert key_line(text, "aws_url", "simulator") == 3
    assert key_line(text, "aws_url") == 1
    assert key_line(text, "simulator") == 2


def test_resolve_target_kinds_and_their_errors(tmp_path):
    assert resolve_target(None, {}).kind == "source"
    path = write(tmp_path, GOOD)
    assert resolve_target(str(path), {}).kind == "url"  # a .toml is a url target
    assert resolve_target(None, {"E2E_TARGET": "url", "E2E_TARGET_FILE": str(path)}).file
    t = resolve_target("images", {"E2E_IMAGE_TAG": "1.4.0-rc2", "E2E_IMAGE_REPO": "reg/oi"})
    assert (t.kind, t.image_tag, t.image_repo) == ("images", "1.4.0-rc2", "reg/oi")
    assert resolve_target("source", {"E2E_TARGET": "images"}).kind == "source"  # option wins
    with pytest.raises(TargetError, match="E2E_IMAGE_TAG .* or E2E_IMAGE_ARCHIVE"):
        resolve_target("images", {})
    with pytest.raises(TargetError, match="needs a target file: set E2E_TARGET_FILE"):
        resolve_target("url", {})
    with pytest.raises(TargetError, match="unknown target 'staging'.*source, images, url"):
        resolve_target("staging", {})
    with pytest.raises(TargetFileError, match="no such file"):
        resolve_target(str(tmp_path / "nope.toml"), {})


def test_what_a_url_target_lacks_is_said_per_need(tmp_path):
    t = resolve_target(str(write(tmp_path, GOOD)), {})
    assert t.lacks("requires_datastores", ("postgres",)) is None
    assert t.lacks("requires_datastores", ()) == "no [datastores] redis, clickhouse"
    assert t.lacks("requires_admin", (), {}) == "admin_token_env STAGING_ADMIN_TOKEN is not set"
    assert t.lacks("requires_admin", (), {"STAGING_ADMIN_TOKEN": "x"}) is None
    assert t.lacks("requires_aws_simulator") is None
    assert t.lacks("requires_orchestrator") == "no orchestrator_url"
    assert t.lacks("destructive") and t.lacks("requires_docker")
    reason = t.skip_reason([("requires_docker", ()), ("requires_aws_simulator", ()),
                            ("requires_orchestrator", ())])
    assert reason == (f"target 'staging' ({t.file.path}) lacks: requires_docker (a deployed "
                      f"environment: no Docker); requires_orchestrator (no orchestrator_url)")
    source = resolve_target("source", {})
    assert all(source.lacks(n) is None for n in ("destructive", "requires_docker",
                                                 "requires_admin", "requires_datastores"))
