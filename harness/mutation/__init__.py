"""Mutation testing of the platform, end to end: each patch in ``mutants/`` (a small
realistic bug) is built into the platform image, swapped into a running stack on reset
datastores, and the e2e tests that ran the patched lines (recorded by `make test-all`) run
against it until one fails."""

from ._catalogue import ChangedLine, Mutant, load_catalogue, parse_patch
from ._coverage_map import CoverageMap, FileCoverage, TimedTest
from ._engine import (
    BaselineUnhealthy,
    Deployment,
    DoesNotApply,
    MutantResult,
    MutationEngine,
    MutationRun,
    Outcome,
    SuiteRun,
)
from ._exceptions import CatalogueError, MutationError, MutationSetupError
from ._report import to_json, to_markdown, verdict_lines, write_reports
from ._selection import Selection, SelectionMap, Selector

__all__ = [
    "BaselineUnhealthy",
    "CatalogueError",
    "ChangedLine",
    "CoverageMap",
    "Deployment",
    "DoesNotApply",
    "FileCoverage",
    "Mutant",
    "MutantResult",
    "MutationEngine",
    "MutationError",
    "MutationRun",
    "MutationSetupError",
    "Outcome",
    "Selection",
    "SelectionMap",
    "Selector",
    "SuiteRun",
    "TimedTest",
    "load_catalogue",
    "parse_patch",
    "to_json",
    "to_markdown",
    "verdict_lines",
    "write_reports",
]
