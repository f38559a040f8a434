"""Requirement traceability: which tests check which requirement, and how they fared.

The catalogue is a TOML file, one table per area, ``id = "one-line description"``:

    [spot_migration]
    REQ-SPOT-01 = "Spot migration reduces the monthly cost by at least 30%"

Tests name the requirements they check (``@pytest.mark.req("REQ-SPOT-01")``); the matrix maps
each requirement to its tests and their outcomes. A requirement no test names is *uncovered*;
one whose tests were all deselected or never reached is *not run*.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.core import ConfigError

REQUIREMENT_ID = re.compile(r"^REQ-[A-Z0-9]+(?:-[A-Z0-9]+)*-\d{2,3}$")

# Requirement statuses, worst first (the order of the summary's lists).
FAILED, NOT_RUN, UNCOVERED, SKIPPED, PASSED = "failed", "not run", "uncovered", "skipped", "passed"
_BAD_OUTCOMES = {"failed", "error", "xpassed"}
_GOOD_OUTCOMES = {"passed", "xfailed", "flaky"}  # flaky: passed on retry


@dataclass(frozen=True)
class Requirement:
    id: str
    description: str
    area: str


@dataclass
class PhaseTiming:
    number: int
    title: str
    outcome: str
    duration_s: float


@dataclass
class TestRecord:
    """One test of the run as the reports saw it (everything xdist can ship as plain data)."""

    __test__ = False  # not a test class, whatever its name says

    nodeid: str
    outcome: str  # passed | failed | error | skipped | xfailed | xpassed | not run
    requirements: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    phases: list[PhaseTiming] = field(default_factory=list)
    failed_phase: str = ""
    message: str = ""  # first line of the failure
    bundle: str = ""  # failure bundle folder

    @property
    def scenario(self) -> str:
        """The test file: the unit a nightly reader calls a scenario."""
        return self.nodeid.split("::", 1)[0]


class Catalogue:
    """The requirements a project promises, by id, in file order."""

    def __init__(self, requirements: Iterable[Requirement], source: Path | None = None) -> None:
        self.requirements: dict[str, Requirement] = {}
        for r in requirements:
            if r.id in self.requirements:
                raise ConfigError(f"requirement {r.id} is listed twice"
                                  f"{f' in {source}' if source else ''}")
            self.requirements[r.id] = r
        self.source = source

    def __contains__(self, req_id: object) -> bool:
        return req_id in self.requirements

    def __len__(self) -> int:
        return len(self.requirements)

    @classmethod
    def load(cls, path: Path) -> Catalogue:
        """Read ``path``; an absent file is an empty catalogue (nothing is checked)."""
        if not path.is_file():
            return cls([], None)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        reqs = []
        for area, table in data.items():
            if not isinstance(table, dict):
                raise ConfigError(f"{path}: '{area}' must be a table of "
                                  f'REQ-... = "description" lines')
            for req_id, text in table.items():
                if not REQUIREMENT_ID.match(req_id) or not isinstance(text, str):
                    raise ConfigError(f"{path} [{area}]: {req_id!r} must look like "
                                      f'REQ-AREA-01 = "one-line description"')
                reqs.append(Requirement(req_id, text.strip(), area.replace("_", " ")))
        return cls(reqs, path)

    def unknown(self, ids: Iterable[str]) -> list[str]:
        """The ids not in the catalogue (nothing is unknown when there is no catalogue)."""
        if self.source is None:
            return []
        return [i for i in ids if i not in self.requirements]


@dataclass
class MatrixRow:
    requirement: Requirement
    status: str
    tests: list[tuple[str, str]]  # (nodeid, outcome)


@dataclass
class Matrix:
    rows: list[MatrixRow]
    untraced_tests: list[str]  # tests run without a requirement marker
    catalogue_source: str

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    def with_status(self, status: str) -> list[MatrixRow]:
        return [r for r in self.rows if r.status == status]

    def totals(self) -> dict[str, int]:
        return {s: self.count(s) for s in (PASSED, FAILED, SKIPPED, NOT_RUN, UNCOVERED)}


def _status(outcomes: list[str]) -> str:
    if not outcomes:
        return UNCOVERED
    ran = [o for o in outcomes if o != NOT_RUN]
    if any(o in _BAD_OUTCOMES for o in ran):
        return FAILED
    if not ran:
        return NOT_RUN
    if any(o in _GOOD_OUTCOMES for o in ran):
        return PASSED
    return SKIPPED


def build_matrix(catalogue: Catalogue, records: Iterable[TestRecord]) -> Matrix:
    """Requirement -> tests -> outcome, in catalogue order; ids only tests know come last."""
    by_req: dict[str, list[tuple[str, str]]] = {r: [] for r in catalogue.requirements}
    untraced = []
    for rec in sorted(records, key=lambda r: r.nodeid):
        if not rec.requirements:
            if rec.outcome != NOT_RUN:
                untraced.append(rec.nodeid)
            continue
        for req_id in dict.fromkeys(rec.requirements):
            by_req.setdefault(req_id, []).append((rec.nodeid, rec.outcome))
    rows = []
    for req_id, tests in by_req.items():
        req = catalogue.requirements.get(req_id) or Requirement(
            req_id, "(not in the requirement catalogue)", "not catalogued")
        rows.append(MatrixRow(req, _status([o for _, o in tests]), tests))
    source = str(catalogue.source.name) if catalogue.source else "(no catalogue file)"
    return Matrix(rows, untraced, source)


def matrix_to_json(matrix: Matrix, run_id: str) -> dict[str, object]:
    return {
        "run_id": run_id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalogue": matrix.catalogue_source,
        "totals": matrix.totals(),
        "requirements": [
            {**asdict(r.requirement), "status": r.status,
             "tests": [{"nodeid": n, "outcome": o} for n, o in r.tests]}
            for r in matrix.rows],
        "tests_without_requirement": matrix.untraced_tests,
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def matrix_to_markdown(matrix: Matrix, run_id: str) -> str:
    t = matrix.totals()
    out = [f"# Requirement traceability: run `{run_id}`", "",
           f"{len(matrix.rows)} requirements ({matrix.catalogue_source}): "
           + ", ".join(f"{n} {s}" for s, n in t.items()) + ".", ""]
    areas: dict[str, list[MatrixRow]] = {}
    for row in matrix.rows:
        areas.setdefault(row.requirement.area, []).append(row)
    for area, rows in areas.items():
        out += [f"## {area}", "", "| requirement | description | status | tests (outcome) |",
                "|---|---|---|---|"]
        for r in rows:
            tests = "<br>".join(f"`{_cell(n)}` ({o})" for n, o in r.tests) or "-"
            status = r.status.upper() if r.status in (FAILED, UNCOVERED) else r.status
            out.append(f"| {r.requirement.id} | {_cell(r.requirement.description)} | "
                       f"{status} | {tests} |")
        out.append("")
    uncovered = matrix.with_status(UNCOVERED)
    out += [f"## Uncovered ({len(uncovered)})", ""]
    out += [f"- {r.requirement.id}: {r.requirement.description}" for r in uncovered] or ["none"]
    out += ["", f"## Tests without a requirement ({len(matrix.untraced_tests)})", ""]
    out += [f"- `{n}`" for n in matrix.untraced_tests[:200]] or ["none"]
    if len(matrix.untraced_tests) > 200:
        out.append(f"- ... and {len(matrix.untraced_tests) - 200} more (see the JSON)")
    return "\n".join(out) + "\n"


def write_matrix(matrix: Matrix, directory: Path, run_id: str) -> tuple[Path, Path]:
    """``traceability.md`` and ``traceability.json`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    md, js = directory / "traceability.md", directory / "traceability.json"
    md.write_text(matrix_to_markdown(matrix, run_id), encoding="utf-8")
    js.write_text(json.dumps(matrix_to_json(matrix, run_id), indent=2) + "\n", encoding="utf-8")
    return md, js


def merge_records(records: Mapping[str, TestRecord], known: Mapping[str, list[str]]
                  ) -> list[TestRecord]:
    """Records of the tests that ran, plus a 'not run' record for each collected test that
    did not (deselected, or after ``-x`` stopped the run), so its requirements count."""
    merged = dict(records)
    for nodeid, reqs in known.items():
        if nodeid not in merged:
            merged[nodeid] = TestRecord(nodeid=nodeid, outcome=NOT_RUN, requirements=list(reqs))
    return list(merged.values())


def record_from_dict(data: Mapping[str, Any]) -> TestRecord:
    """A TestRecord back from its ``asdict`` form (records.json)."""
    fields = dict(data)
    fields["phases"] = [PhaseTiming(**p) for p in fields.get("phases", [])]
    return TestRecord(**fields)
