"""Errors of the target switch. Each names what is wrong, where, and what to do.

    HarnessError (harness.core)
    └── ConfigError
        ├── TargetError          an unknown E2E_TARGET / --target, a missing setting
        ├── TargetFileError      a bad target file (file, key, line)
        └── MissingImageError    images target: an image the stack needs is not in the engine
"""

from __future__ import annotations

from pathlib import Path

from harness.core import ConfigError


class TargetError(ConfigError):
    pass


class TargetFileError(TargetError):
    """A bad target file: ``path:line: key: problem`` and the fix."""

    def __init__(self, path: Path, key: str, line: int | None, problem: str) -> None:
        self.path, self.key, self.line, self.problem = path, key, line, problem
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"target file {where}: {key or '(file)'}: {problem} "
                         f"(README: Validating a release candidate, target file format)")


class MissingImageError(TargetError):
    def __init__(self, missing: dict[str, str], hint: str) -> None:
        self.missing = dict(missing)  # image -> the services that run it
        lines = [f"  {image} (services: {svc})" for image, svc in sorted(missing.items())]
        super().__init__("images target: these images are not in the Docker engine, and "
                         "nothing is built on this target:\n" + "\n".join(lines) + f"\n{hint}")
