"""`python -m harness up` on the images target: the images are checked (and an archive
loaded) before anything starts, and the stack gets the override that builds nothing."""

from __future__ import annotations

import os
from typing import Any

import pytest

from harness import cli
from harness.core import StackConfig, StackStatus
from harness.domain import COMPOSE_FILE
from harness.targets import MissingImageError, compose_images

from .test_images import fake_docker, make_archive

ENGINE = {img: "sha256:bbb" for img in compose_images(COMPOSE_FILE).values()}


class Recorder:
    instances: list[Recorder] = []
    present: dict[str, str] = {}

    def __init__(self, config: StackConfig) -> None:
        self.config, self.project = config, config.project_name
        self.calls: list[str] = []
        self._docker = fake_docker(Recorder.present)
        images = self._docker.image
        real_load = images.load

        def load(path: str) -> None:  # what the archive of make_archive holds
            real_load(path)
            images.present["oi/platform:rc2"] = "sha256:aaa"
        images.load = load
        Recorder.instances.append(self)

    def check_engine(self) -> None:
        self.calls.append("check_engine")

    def up(self, *, timeout: float | None = None) -> StackStatus:
        self.calls.append("up")
        return StackStatus(project=self.project, services=[])


@pytest.fixture(autouse=True)
def recorder(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in list(os.environ):
        if name.startswith("E2E_") and name not in ("E2E_SESSION_ID", "E2E_SESSION_PID"):
            monkeypatch.delenv(name)
    real = cli.stack_config  # the override is written into a scratch state folder
    monkeypatch.setattr(cli, "stack_config", lambda env=None, **kw: real(
        env, **{"state_dir": tmp_path / "state", **kw}))
    monkeypatch.setattr(cli, "Stack", Recorder)
    monkeypatch.setattr(Recorder, "instances", [])


def test_up_on_an_archive_loads_it_checks_the_images_and_builds_nothing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: Any) -> None:
    archive = make_archive(tmp_path / "rc.tar", ["oi/platform:rc2"])
    monkeypatch.setattr(Recorder, "present", dict(ENGINE))  # the archive is not loaded yet
    monkeypatch.setenv("E2E_TARGET", "images")
    monkeypatch.setenv("E2E_IMAGE_ARCHIVE", str(archive))
    assert cli.main(["up"]) == 0
    (stack,) = Recorder.instances
    assert stack.calls == ["check_engine", "up"]
    assert stack._docker.image.loaded == [str(archive)]
    assert stack.config.build is False
    override = stack.config.compose_files[-1]
    assert '"oi/platform:rc2"' in override.read_text() and "build: !reset" in \
        override.read_text()
    err = capsys.readouterr().err
    assert "[target] images (archive" in err
    assert "oi/platform:rc2: id sha256:aaa, no registry digest: loaded from an archive" in err


def test_up_on_a_tag_names_a_missing_image_before_starting(
        monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr(Recorder, "present", dict(ENGINE))
    monkeypatch.setenv("E2E_TARGET", "images")
    monkeypatch.setenv("E2E_IMAGE_TAG", "9.9.9")
    assert cli.main(["up"]) == 1
    (stack,) = Recorder.instances
    assert "up" not in stack.calls
    err = capsys.readouterr().err
    assert "optiinfra-e2e/platform:9.9.9" in err and "not in the Docker engine" in err
    assert issubclass(MissingImageError, Exception)


@pytest.mark.parametrize("command", ["up", "down"])
def test_up_and_down_on_a_url_target_touch_no_stack(
        command: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: Any) -> None:
    target = tmp_path / "t.toml"
    target.write_text('portal_url = "http://127.0.0.1:9"\n')
    monkeypatch.setenv("E2E_TARGET", str(target))
    assert cli.main([command]) == 0
    assert Recorder.instances == []
    assert f"a deployed environment, nothing to {command} here" in capsys.readouterr().err
