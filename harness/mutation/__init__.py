"""Mutation testing of the platform, end to end: each patch in ``mutants/`` (a small
realistic bug) is built into the platform image, swapped into a running stack, and the e2e
tests that exercise the patched files run against it until one fails."""

from ._catalogue import ChangedLine, Mutant, load_catalogue, parse_patch
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
from ._selection import SelectionMap

__all__ = [
    "BaselineUnhealthy",
    "CatalogueError",
    "ChangedLine",
    "Deployment",
    "DoesNotApply",
    "Mutant",
    "MutantResult",
    "MutationEngine",
    "MutationError",
    "MutationRun",
    "MutationSetupError",
    "Outcome",
    "SelectionMap",
    "SuiteRun",
    "load_catalogue",
    "parse_patch",
    "to_json",
    "to_markdown",
    "verdict_lines",
    "write_reports",
]
