"""Combine the platform's coverage data from the containers and report it per component,
beside the seed's targets (orchestrator 90%, agents 85%, portal 80%, overall 85%).

Usage: python scripts/platform_coverage.py [DATA_DIR] [--map FILE]   (default artifacts/coverage)
Writes DATA_DIR/report.md and an HTML report in DATA_DIR/html/. When the run wrote its tests'
windows (DATA_DIR/test-windows.jsonl, see harness/mutation/_windows.py), also the coverage map
the mutation lane selects tests by (--map, default mutants/coverage-map.json).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import coverage
from coverage.exceptions import NoDataError

REPO = Path(__file__).resolve().parents[1]
RC = REPO / "compose" / "platform" / "coverage.rc"
WINDOWS = "test-windows.jsonl"
COMPONENTS = [  # (component, files, target %)
    ("orchestrator", "optiinfra/orchestrator/*", 90),
    ("cost agent", "optiinfra/agents/cost/*", 85),
    ("performance agent", "optiinfra/agents/performance/*", 85),
    ("resource agent", "optiinfra/agents/resource/*", 85),
    ("application agent", "optiinfra/agents/application/*", 85),
    ("portal", "optiinfra/portal/*", 80),
    ("workload (simulator)", "optiinfra/workload/*", None),
    ("common (shared)", "optiinfra/common/*", None),
    ("overall", "optiinfra/*", 85),
]


def main(data_dir: Path, map_path: Path | None = None) -> int:
    parts = sorted(data_dir.glob(".coverage.*"))
    if not parts and not (data_dir / ".coverage").exists():
        print(f"[coverage] no coverage data in {data_dir}: did the platform run under "
              "coverage (make test-all) and stop cleanly?", file=sys.stderr)
        return 1
    cov = coverage.Coverage(data_file=str(data_dir / ".coverage"), config_file=str(RC))
    if parts:
        cov.combine([str(p) for p in parts])
        cov.save()
    cov.load()
    rows = ["| component | measured | target | |", "|---|---:|---:|---|"]
    for name, pattern, target in COMPONENTS:
        try:
            pct = cov.report(include=[pattern], file=io.StringIO())
        except NoDataError:
            pct = 0.0
        verdict = "" if target is None else ("meets" if pct >= target else "below")
        rows.append(f"| {name} | {pct:.1f}% | {f'{target}%' if target else '-'} | {verdict} |")
    table = "\n".join(rows)
    cov.html_report(directory=str(data_dir / "html"), include=["optiinfra/*"])
    (data_dir / "report.md").write_text("# Platform coverage from the e2e run\n\n" + table + "\n")
    print("\nPlatform coverage, measured inside the containers during the e2e run:\n" + table)
    print(f"\n[coverage] {data_dir / 'report.md'} ; HTML: {data_dir / 'html' / 'index.html'}")
    if (data_dir / WINDOWS).is_file() and map_path is not None:
        write_map(cov, data_dir / WINDOWS, map_path)
    return 0


def write_map(cov: coverage.Coverage, windows: Path, map_path: Path) -> None:
    """Which scenario ran which platform line (harness/mutation/_coverage_map.py)."""
    from harness.mutation._coverage_map import CoverageMap, contexts_of, read_windows

    def read_source(path: str) -> bytes | None:
        try:
            return (REPO / path).read_bytes()
        except OSError:
            return None

    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                          capture_output=True, text=True, check=False).stdout.strip()
    got = CoverageMap.build(contexts_of(cov.get_data()), read_windows(windows), read_source,
                            source=f"git {head}" if head else "",
                            recorded=f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}")
    got.save(map_path)
    lines = sum(len(f.lines) for f in got.files.values())
    print(f"[coverage] mutation map {map_path}: {len(got.tests)} scenario tests, "
          f"{len(got.files)} files, {lines} lines tied to tests")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_dir", nargs="?", type=Path, default=Path("artifacts/coverage"))
    p.add_argument("--map", type=Path, default=REPO / "mutants" / "coverage-map.json",
                   help="where the mutation lane's coverage map goes")
    args = p.parse_args()
    sys.exit(main(args.data_dir, args.map))
