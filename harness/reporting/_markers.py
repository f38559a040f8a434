"""Requirement markers: ``@pytest.mark.req("REQ-SPOT-01", ...)`` names what a test checks.

Ids must be in the catalogue (``requirements.toml`` at the rootdir); a marker without ids, or
with an id the catalogue does not list, is a collection error that says how to fix it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core import ConfigError

from ._traceability import Catalogue

REQ_MARKER = "req"
CATALOGUE_FILE = "requirements.toml"
MARKER_HELP = (f"{REQ_MARKER}(*ids): the requirements this test checks (ids from "
               f"{CATALOGUE_FILE}); collected into artifacts/<run>/traceability.md")


def load_catalogue(rootdir: Path) -> Catalogue:
    """The rootdir's catalogue (empty when there is none); a bad file is a usage error."""
    try:
        return Catalogue.load(rootdir / CATALOGUE_FILE)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from exc


def requirements_of(item: pytest.Item) -> list[str]:
    """The requirement ids of every ``req`` marker on the item (closest first), deduplicated."""
    ids: list[str] = []
    for mark in item.iter_markers(REQ_MARKER):
        if not mark.args or not all(isinstance(a, str) and a for a in mark.args):
            raise pytest.Collector.CollectError(
                f"{item.nodeid}: @pytest.mark.{REQ_MARKER} takes requirement ids as strings, "
                f"e.g. @pytest.mark.{REQ_MARKER}(\"REQ-SPOT-01\"); got {mark.args!r}")
        ids += [a for a in mark.args if a not in ids]
    return ids


def check_requirements(item: pytest.Item, catalogue: Catalogue) -> None:
    """Raise a collection error naming the item's ids that the catalogue does not list."""
    unknown = catalogue.unknown(requirements_of(item))
    if unknown:
        known = ", ".join(list(catalogue.requirements)[:5])
        raise pytest.Collector.CollectError(
            f"{item.nodeid}: unknown requirement id(s) {', '.join(unknown)} in "
            f"@pytest.mark.{REQ_MARKER}: {catalogue.source} lists {len(catalogue)} "
            f"requirements ({known}, ...). Add the id there, or fix the marker.")
