"""GO/NO-GO from a run's records, requirements, target and waivers (no Docker, no pytest run)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from harness.verdict import Waiver, WaiverFileError, decide, load_waivers, verdict_for_run
from harness.verdict._cli import target_env

TODAY = date(2026, 12, 3)
IMAGES = {"kind": "images", "label": "images (tag rc2)", "images": [
    {"image": "oi/platform:rc2", "services": ["portal"], "id": "sha256:abc", "repo_digests": []}]}


def rec(nodeid: str, outcome: str, reqs: tuple[str, ...] = (), **kw: str) -> dict[str, object]:
    return {"nodeid": nodeid, "outcome": outcome, "requirements": list(reqs),
            "message": kw.get("message", ""), "bundle": kw.get("bundle", "")}


def req(rid: str, status: str, *tests: tuple[str, str]) -> dict[str, object]:
    return {"id": rid, "description": f"{rid} text", "status": status,
            "tests": [{"nodeid": n, "outcome": o} for n, o in tests]}


def waiver(test: str, expires: date = date(2027, 1, 1)) -> Waiver:
    return Waiver(test, "jane", "OPT-1 known", expires, 3)


def test_all_passed_is_go():
    v = decide([rec("a::t", "passed", ("REQ-1",))], [req("REQ-1", "passed", ("a::t", "passed"))],
               IMAGES, [], TODAY)
    assert (v.word, v.reasons) == ("GO", [])


def test_a_failure_is_no_go_naming_the_requirement_and_the_bundle():
    records = [rec("a::t", "failed", ("REQ-1",), bundle="artifacts/r/a__t", message="boom"),
               rec("a::u", "passed")]
    v = decide(records, [req("REQ-1", "failed", ("a::t", "failed"))], IMAGES, [], TODAY)
    assert v.word == "NO-GO"
    assert "requirement(s) failed: REQ-1" in v.reasons
    assert v.failures[0]["bundle"] == "artifacts/r/a__t"


def test_a_live_waiver_covers_a_failure_and_its_requirement():
    records = [rec("a::t", "failed", ("REQ-1",)), rec("a::u", "passed")]
    v = decide(records, [req("REQ-1", "failed", ("a::t", "failed"))], IMAGES,
               [waiver("a::*")], TODAY)
    assert v.word == "GO", v.reasons
    assert v.requirements[0]["status"] == "waived"
    assert v.waived[0]["waiver"]["owner"] == "jane"
    assert v.waivers[0]["matched"] == 1


def test_an_expired_waiver_is_a_failure():
    records = [rec("a::t", "failed"), rec("a::u", "passed")]
    v = decide(records, [], IMAGES, [waiver("a::t", date(2026, 12, 2))], TODAY)
    assert v.word == "NO-GO"
    assert v.failures[0]["note"] == "its waiver expired on 2026-12-02"
    assert any("expired on 2026-12-02" in r for r in v.reasons)


def test_a_waiver_matching_nothing_is_reported_but_does_not_block():
    v = decide([rec("a::u", "passed")], [], IMAGES, [waiver("gone::t")], TODAY)
    assert v.word == "GO" and v.waivers[0]["matched"] == 0


def test_flaky_is_counted_apart_and_does_not_block():
    v = decide([rec("a::t", "flaky", message="first try: timeout"), rec("a::u", "passed")],
               [], IMAGES, [], TODAY)
    assert v.word == "GO" and v.totals["flaky"] == 1 and len(v.flaky) == 1


def test_nothing_passed_or_a_broken_session_is_no_go():
    assert decide([rec("a::t", "skipped")], [], IMAGES, [], TODAY).word == "NO-GO"
    v = decide([rec("a::t", "passed")], [], IMAGES, [], TODAY,
               sessions=[{"name": "parallel", "exit_code": 2}])
    assert v.word == "NO-GO" and "exit code 2" in v.reasons[0]


def test_verdict_files_show_the_digests_failures_and_waivers(tmp_path: Path):
    (tmp_path / "records.json").write_text(json.dumps({"run_id": "r1", "records": [
        rec("a::t", "failed", ("REQ-1",), bundle="artifacts/r1/a__t"), rec("a::u", "skipped",
                                                                          message="no sim")]}))
    (tmp_path / "traceability.json").write_text(json.dumps({"requirements": [
        req("REQ-1", "failed", ("a::t", "failed"))]}))
    (tmp_path / "target.json").write_text(json.dumps(IMAGES))
    v = verdict_for_run(tmp_path, [waiver("zzz")], TODAY)
    md = (tmp_path / "verdict.md").read_text()
    assert md.startswith("# Release-candidate verdict: **NO-GO**")
    for text in ("`sha256:abc`", "`artifacts/r1/a__t`", "| REQ-1 REQ-1 text | failed | 1 | [",
                 "1 x no sim", "nothing (remove it?)"):
        assert text in md
    assert json.loads((tmp_path / "verdict.json").read_text())["verdict"] == v.word == "NO-GO"


def test_archive_images_say_they_have_no_registry_digest_and_bundles_link_relative(
        tmp_path: Path):
    bundle = tmp_path / "bundles" / "a__t"
    (tmp_path / "records.json").write_text(json.dumps({"run_id": "r1", "records": [
        rec("a::t", "failed", ("REQ-1",), bundle=str(bundle))]}))
    (tmp_path / "traceability.json").write_text(json.dumps({"requirements": [
        req("REQ-1", "failed", ("a::t", "failed"))]}))
    target = {"kind": "images", "label": "images (archive rc.tar)", "archive": "rc.tar",
              "archive_sha256": "sha256:f00", "images": [
                  {"image": "oi/platform:rc2", "services": ["portal"], "id": "sha256:abc",
                   "repo_digests": [],
                   "digest_text": "no registry digest: loaded from an archive"},
                  {"image": "oi/pg:1", "services": ["postgres"], "id": "sha256:def",
                   "repo_digests": ["reg/oi/pg@sha256:123"]}]}
    (tmp_path / "target.json").write_text(json.dumps(target))
    verdict_for_run(tmp_path, [], TODAY)
    md = (tmp_path / "verdict.md").read_text()
    assert "| `sha256:abc` | no registry digest: loaded from an archive |" in md
    assert "| `sha256:def` | reg/oi/pg@sha256:123 |" in md
    assert "Archive `rc.tar`: sha256:f00" in md
    assert f"| failed | 1 | [`{bundle}`](bundles/a__t) |" in md


def test_waivers_file_errors_name_the_line(tmp_path: Path):
    path = tmp_path / "waivers.toml"
    path.write_text('[[waiver]]\ntest = "a"\nowner = "o"\nreason = "r"\nexpires = 2027-01-01\n'
                    '\n[[waiver]]\ntest = "b"\nowner = "o"\nreason = "r"\nexpires = "soon"\n')
    with pytest.raises(WaiverFileError, match=r"waivers.toml:7: waiver 2: expires must be a "
                                              r"TOML date"):
        load_waivers(path)
    path.write_text('[[waiver]]\ntest = "a"\n')
    with pytest.raises(WaiverFileError, match="missing owner, reason, expires"):
        load_waivers(path)
    assert load_waivers(tmp_path / "none.toml") == []
    assert load_waivers(Path(__file__).resolve().parents[2] / "waivers.toml") == []


def test_rc_argument_picks_the_target(tmp_path: Path):
    archive = tmp_path / "rc.tar"
    archive.write_bytes(b"")
    assert target_env("1.4.0-rc2") == {"E2E_TARGET": "images", "E2E_IMAGE_TAG": "1.4.0-rc2"}
    assert target_env(str(archive))["E2E_IMAGE_ARCHIVE"] == str(archive)
    assert target_env("targets/staging.toml") == {"E2E_TARGET": "url",
                                                  "E2E_TARGET_FILE": "targets/staging.toml"}
    assert target_env("source") == {"E2E_TARGET": "source"}
