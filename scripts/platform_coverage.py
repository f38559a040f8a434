"""Combine the platform's coverage data from the containers and report it per component,
beside the seed's targets (orchestrator 90%, agents 85%, portal 80%, overall 85%).

Usage: python scripts/platform_coverage.py [DATA_DIR]   (default artifacts/coverage)
Writes DATA_DIR/report.md and an HTML report in DATA_DIR/html/.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import coverage
from coverage.exceptions import NoDataError

RC = Path(__file__).resolve().parents[1] / "compose" / "platform" / "coverage.rc"
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


def main(data_dir: Path) -> int:
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
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("artifacts/coverage")))
