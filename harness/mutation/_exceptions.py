"""Errors of the mutation lane (all are HarnessErrors, so the CLI prints them plainly)::

    HarnessError
    └── MutationError
        ├── CatalogueError     a patch file or the test map cannot be read
        └── MutationSetupError the stack, the scratch copy or an image build is not usable
"""

from __future__ import annotations

from harness.core import HarnessError


class MutationError(HarnessError):
    """Base of the mutation lane's errors."""


class CatalogueError(MutationError):
    """A patch in mutants/ or mutants/test-map.toml is malformed; the message names it."""


class MutationSetupError(MutationError):
    """What the run needs (a running stack, git, an image build) is not there."""
