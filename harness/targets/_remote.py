"""The ``stack`` of the url target: a deployed environment stands where the compose stack
would. It answers what needs no Docker (project, settings, service names); anything that
would call Docker raises, so a test that needs it must carry ``requires_docker``."""

from __future__ import annotations

from typing import Any, NoReturn

from harness.core import StackConfig

from ._exceptions import TargetError
from ._images import compose_images
from ._target import Target


class DeployedStack:
    def __init__(self, target: Target, config: StackConfig) -> None:
        self.target = target
        self.config = config.model_copy(update={"build": False})
        self.run_id = "deployed"

    @property
    def project(self) -> str:
        return self.config.project_name

    def services(self) -> dict[str, list[str]]:
        """The platform's service names (the compose file's), e.g. for the response scanner's
        list of internal host names; their dependencies are unknown here."""
        return {name: [] for f in self.config.compose_files[:1]
                for name in compose_images(f)}

    def is_running(self) -> bool:
        return True

    def _no_docker(self, what: str) -> NoReturn:
        raise TargetError(f"{what} needs Docker, and target {self.target.label} has none: "
                          f"mark the test requires_docker so the url target skips it")

    def check_engine(self) -> None:
        self._no_docker("check_engine()")

    def status(self) -> Any:
        self._no_docker("status()")

    def logs(self, *args: Any, **kwargs: Any) -> str:
        self._no_docker("logs()")

    def up(self, *args: Any, **kwargs: Any) -> Any:
        self._no_docker("up()")

    def down(self, *args: Any, **kwargs: Any) -> float:
        self._no_docker("down()")
