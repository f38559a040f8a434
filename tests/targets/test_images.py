"""The images target without Docker: names, the compose override, the archive's manifest,
and the check that names a missing image before anything starts (a fake engine)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.domain import COMPOSE_FILE
from harness.targets import (
    ImageRecord,
    MissingImageError,
    Target,
    TargetError,
    archive_images,
    check_images,
    compose_images,
    images_for,
    load_archive,
    override_yaml,
    retag,
)


class FakeImages:
    def __init__(self, present: dict[str, str]) -> None:
        self.present = dict(present)  # name -> id
        self.loaded: list[str] = []

    def exists(self, name: str) -> bool:
        return name in self.present

    def inspect(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(id=self.present[name], repo_digests=[])

    def load(self, path: str) -> None:
        self.loaded.append(path)


def fake_docker(present: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(image=FakeImages(present))


def make_archive(path: Path, tags: list[str]) -> Path:
    data = json.dumps([{"Config": "abc.json", "RepoTags": tags, "Layers": []}]).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_retag_keeps_the_base_name_and_swaps_repo_and_tag():
    assert retag("optiinfra-e2e/platform:local", None, "rc2") == "optiinfra-e2e/platform:rc2"
    assert retag("optiinfra-e2e/platform:local", "reg.example:5000/oi/", "1.4") == \
        "reg.example:5000/oi/platform:1.4"
    assert retag("platform", None, "x") == "platform:x"


def test_only_the_release_images_are_swapped():
    compose = compose_images(COMPOSE_FILE)
    got = images_for(compose, compose, ("platform",), "reg/oi", "1.4.0-rc2")
    assert got["portal"] == got["orchestrator"] == "reg/oi/platform:1.4.0-rc2"
    assert got["postgres"] == "optiinfra-e2e/postgres:local"  # the test bed stays
    assert {s for s, i in got.items() if i.endswith("rc2")} == {
        "orchestrator", "agent-cost", "agent-performance", "agent-resource",
        "agent-application", "workload", "portal"}


def test_the_override_leaves_compose_nothing_to_build(tmp_path):
    compose = compose_images(COMPOSE_FILE)
    override = tmp_path / "o.yml"
    override.write_text(override_yaml(images_for(compose, compose, ("platform",), None, "rc")))
    try:
        out = subprocess.run(["docker", "compose", "-f", str(COMPOSE_FILE), "-f", str(override),
                              "config", "--format", "json"], capture_output=True, text=True,
                             timeout=60, check=True).stdout
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"no docker compose CLI to render the override: {exc}")
    services = json.loads(out)["services"]
    assert not [s for s, v in services.items() if "build" in v]
    assert {v["pull_policy"] for v in services.values()} == {"never"}
    assert services["portal"]["image"] == "optiinfra-e2e/platform:rc"


def test_a_missing_image_is_named_with_its_services_before_anything_starts():
    docker = fake_docker({"optiinfra-e2e/postgres:local": "sha256:p"})
    images = {"postgres": "optiinfra-e2e/postgres:local", "portal": "oi/platform:rc9",
              "workload": "oi/platform:rc9"}
    with pytest.raises(MissingImageError) as err:
        check_images(docker, images, "load them")
    assert err.value.missing == {"oi/platform:rc9": "portal, workload"}
    assert "oi/platform:rc9 (services: portal, workload)" in str(err.value)
    assert "postgres:local" not in str(err.value)


def test_present_images_are_recorded_with_their_ids():
    docker = fake_docker({"a/x:1": "sha256:aaa", "a/y:1": "sha256:bbb"})
    got = check_images(docker, {"s1": "a/x:1", "s2": "a/x:1", "s3": "a/y:1"}, "")
    assert got == [ImageRecord("a/x:1", ("s1", "s2"), "sha256:aaa"),
                   ImageRecord("a/y:1", ("s3",), "sha256:bbb")]


def test_the_archive_is_read_and_loaded_only_when_its_images_are_missing(tmp_path):
    archive = make_archive(tmp_path / "rc.tar", ["oi/platform:rc2"])
    assert archive_images(archive) == ["oi/platform:rc2"]
    lines: list[str] = []
    docker = fake_docker({})
    load_archive(docker, archive, lines.append)
    assert docker.image.loaded == [str(archive)] and "loading rc.tar" in lines[0]
    present = fake_docker({"oi/platform:rc2": "sha256:1"})
    load_archive(present, archive, lines.append)
    assert present.image.loaded == [] and "already loaded" in lines[-1]


def test_an_archive_pins_the_platform_image_it_holds(tmp_path):
    archive = make_archive(tmp_path / "rc.tar", ["oi/platform:rc2", "oi/postgres:rc2"])
    t = Target(kind="images", archive=archive)
    assert t.service_images()["portal"] == "oi/platform:rc2"
    assert t.service_images()["postgres"] == "optiinfra-e2e/postgres:local"
    with pytest.raises(TargetError, match="no 'platform' image in it"):
        Target(kind="images", archive=make_archive(tmp_path / "b.tar", ["x/y:1"])
               ).service_images()
    with pytest.raises(TargetError, match="not a `docker save` archive"):
        (tmp_path / "junk.tar").write_text("junk")
        archive_images(tmp_path / "junk.tar")


def test_an_archive_is_hashed_and_its_images_say_they_have_no_registry_digest(tmp_path):
    archive = make_archive(tmp_path / "rc.tar", ["oi/platform:rc2"])
    present = {"oi/platform:rc2": "sha256:aaa"} | {
        img: "sha256:bbb" for img in compose_images(COMPOSE_FILE).values()}
    t = Target(kind="images", archive=archive)
    lines: list[str] = []
    records = t.prepare(fake_docker(present), lines.append)
    assert t.archive_sha256 == "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()
    assert t.to_json()["archive_sha256"] == t.archive_sha256
    by_image = {r.image: r for r in records}
    assert by_image["oi/platform:rc2"].digest_text == "no registry digest: loaded from an archive"
    assert "registry digest" in by_image["optiinfra-e2e/postgres:local"].digest_text
    assert any("oi/platform:rc2: id sha256:aaa" in line for line in lines)


def test_stack_overrides_write_the_override_and_turn_off_the_build(tmp_path):
    t = Target(kind="images", image_tag="rc2")
    got = t.stack_overrides(tmp_path, "proj")
    assert got["build"] is False
    files = got["compose_files"]
    assert isinstance(files, list) and files[0] == COMPOSE_FILE
    assert "optiinfra-e2e/platform:rc2" in Path(files[1]).read_text()
    assert Target().stack_overrides(tmp_path, "proj") == {}  # source: today's behaviour


def test_the_deployed_stack_stand_in_never_calls_docker(tmp_path):
    from harness.domain import stack_config
    from harness.targets import DeployedStack, resolve_target

    (tmp_path / "t.toml").write_text('portal_url = "http://127.0.0.1:9"\n')
    target = resolve_target(str(tmp_path / "t.toml"), {})
    st = DeployedStack(target, stack_config({}))
    assert st.is_running() and "portal" in st.services() and st.project == "optiinfra-e2e"
    for call in (st.status, st.check_engine, lambda: st.logs("portal"), st.down):
        with pytest.raises(TargetError, match="needs Docker, and target url .* mark the test "
                                              "requires_docker"):
            call()


def test_with_pull_on_a_missing_release_image_is_pulled_and_the_test_bed_never(tmp_path):
    present = {img: "sha256:bbb" for img in compose_images(COMPOSE_FILE).values()}
    present.pop("optiinfra-e2e/platform:local")
    docker = fake_docker(present)
    pulled: list[str] = []

    def pull(name: str, quiet: bool = False) -> None:
        pulled.append(name)
        docker.image.present[name] = "sha256:ccc"
    docker.image.pull = pull
    from harness.targets import resolve_target

    t = resolve_target(None, {"E2E_TARGET": "images", "E2E_IMAGE_TAG": "rc2",
                              "E2E_IMAGE_REPO": "reg/oi", "E2E_IMAGE_PULL": "1"})
    t.prepare(docker, lambda _: None)
    assert pulled == ["reg/oi/platform:rc2"]
    no_pull = resolve_target(None, {"E2E_TARGET": "images", "E2E_IMAGE_TAG": "rc3"})
    with pytest.raises(MissingImageError, match="platform:rc3"):
        no_pull.prepare(fake_docker(present), lambda _: None)
