"""``make validate-rc`` on the images target, end to end, on its own stack:

(a) a ``docker save`` archive of this checkout's platform image, under a release name that
    is not in the engine until the archive is loaded: GO, every service's image id in
    verdict.md, and nothing built (docker is a recorder that refuses any build; the compose
    model the harness runs has no build section);
(c) a platform image built from a patch of mutants/ under its own tag: NO-GO, naming the
    failed requirement and linking its failure bundle, exit code non-zero.

A representative subset of the scenarios runs (the portal and orchestrator's contract, the
datastores): the whole suite is what ``make validate-rc`` itself runs.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from harness.domain import COMPOSE_FILE, REPO_ROOT
from harness.mutation import parse_patch
from harness.targets import Target, compose_images

pytestmark = [pytest.mark.e2e, pytest.mark.serial, pytest.mark.slow,
              pytest.mark.requires_docker, pytest.mark.usefixtures("source_target_only")]

PLATFORM = "optiinfra-e2e/platform:local"
SUBSET_A = "-k 'test_platform_bad_input or test_datastores'"
MUTANT = "workflow-approve-any-tenant"  # approves another customer's recommendation
KILLER = "test_decisions_are_409_when_not_allowed_and_isolated"


@pytest.fixture
def docker() -> DockerClient:
    return DockerClient()


def archive_config_id(archive: Path) -> str:
    """The image id a ``docker save`` archive holds (its config blob's sha256)."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        config = json.load(member)[0]["Config"]
    return "sha256:" + Path(config).name.removesuffix(".json")


def test_archive_of_the_local_images_is_go_with_nothing_built(
        validate_rc, docker: DockerClient, own_tag: str, tmp_path: Path) -> None:
    # setup: the platform image under a release name, saved, then the name dropped from the
    # engine so only loading the archive brings it back (the image itself stays: others run it)
    release = f"{own_tag}/platform:1.0.0-rc1"
    docker.image.tag(PLATFORM, release)
    archive = tmp_path / "optiinfra-1.0.0-rc1.tar"
    docker.image.save(release, output=archive)
    docker.image.remove(release)
    assert not docker.image.exists(release)

    # assess
    run = validate_rc(str(archive), SUBSET_A)
    assert run.exit_code == 0, run.output[-4000:]
    verdict = run.verdict
    assert verdict["verdict"] == "GO" and verdict["totals"].get("passed", 0) >= 6, verdict
    assert not verdict["failures"], verdict["failures"]
    # every service's image id is in verdict.md; the platform's is the archive's own
    md = run.markdown
    ids = {img["image"]: img["id"] for img in verdict["target"]["images"]}
    assert ids[release] == archive_config_id(archive)
    for service, image in compose_images(COMPOSE_FILE).items():
        image = release if image == PLATFORM else image
        row = next((line for line in md.splitlines() if line.startswith(f"| `{image}` |")), "")
        assert service in row and f"`{ids[image]}`" in row, (service, image, md)
    assert "no registry digest: loaded from an archive" in md
    assert verdict["target"]["archive_sha256"].startswith("sha256:")
    # nothing built: the archive was loaded, no docker call asked for a build, stacks started
    # with --no-build semantics (the compose model has no build section at all)
    calls = run.docker_calls
    assert any(c.startswith("load") or " load " in f" {c} " for c in calls), calls
    assert any(" up" in f" {c}" for c in calls), calls
    refused = [c for c in calls if re.search(r"(^| )(build|buildx|--build)( |$)", c)]
    assert refused == [], f"a build was asked for: {refused}"
    overrides = Target(kind="images", archive=archive).stack_overrides(tmp_path, "proof")
    files = [str(f) for f in overrides["compose_files"]]  # type: ignore[attr-defined]
    model = DockerClient(compose_files=files).compose.config(return_json=True)
    assert {s: "build" in svc for s, svc in model["services"].items()} == \
        {s: False for s in model["services"]}


def build_broken_platform(patch: Path, tag: str, scratch: Path) -> None:
    """The platform image with ``patch`` applied: the committed optiinfra/ (``git archive``,
    as the mutation lane copies it), patched, as one layer on the platform image."""
    mutant = parse_patch(patch)
    source = subprocess.run(["git", "archive", "--format=tar", "HEAD", "optiinfra"],
                            cwd=REPO_ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(source)) as tar:
        tar.extractall(scratch, filter="data")
    subprocess.run(["git", "apply", "-"], cwd=scratch, input=mutant.diff.encode(), check=True,
                   env={**os.environ, "GIT_DIR": str(scratch / "no-repo")})
    (scratch / "Dockerfile").write_text(f"FROM {PLATFORM}\nCOPY optiinfra /app/optiinfra\n")
    (scratch / ".dockerignore").write_text("**/__pycache__\n")
    subprocess.run(["docker", "build", "--quiet", "-t", tag, str(scratch)], check=True,
                   capture_output=True)


def test_a_broken_image_set_is_no_go_naming_the_requirement_and_its_bundle(
        validate_rc, docker: DockerClient, own_tag: str, tmp_path: Path) -> None:
    # setup: a platform image with a real bug (mutants/), tagged in this test's own repository
    tag = "1.0.0-rc-broken"
    build_broken_platform(REPO_ROOT / "mutants" / f"{MUTANT}.patch",
                          f"{own_tag}/platform:{tag}", tmp_path / "src")

    # assess
    run = validate_rc(tag, f"-k '{KILLER} or test_no_or_unknown_token_is_401'",
                      E2E_IMAGE_REPO=own_tag)
    assert run.exit_code != 0, run.output[-4000:]
    verdict = run.verdict
    assert verdict["verdict"] == "NO-GO", verdict
    killed = [f for f in verdict["failures"] if f["nodeid"].endswith(f"::{KILLER}")]
    assert killed, verdict["failures"]
    failed = {r["id"] for r in verdict["requirements"] if r["status"] == "failed"}
    assert failed & {"REQ-INPUT-02", "REQ-ISO-02"}, verdict["requirements"]
    md = run.markdown
    bundle = killed[0]["bundle"]
    assert bundle and (Path(bundle) / "README.md").is_file(), bundle
    rel = Path(bundle).resolve().relative_to(run.run_dir.resolve()).as_posix()
    for rid in sorted(failed):
        row = next(line for line in md.splitlines() if line.startswith(f"| {rid} "))
        assert "| failed |" in row and f"]({rel})" in row, row
    reason = next(line for line in md.splitlines() if "requirement(s) failed:" in line)
    assert all(rid in reason for rid in failed), reason
    assert f"{own_tag}/platform:{tag}" in md
