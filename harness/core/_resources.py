"""Labels on every resource of a run, and the sweep of stacks left by killed runs.

Each container, network and volume carries (``<prefix>`` is StackConfig.label_prefix):
    <prefix>.harness=1
    <prefix>.run=<run id>
    <prefix>.owner=detached | pid:<pid>:<boot id>
A stack whose owner is a process that no longer exists (killed outright, so its teardown
never ran) is removed by the next ``up``. Detached stacks (started to be left running) are kept.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_on_whales.exceptions import (
    DockerException,
    NoSuchContainer,
    NoSuchNetwork,
    NoSuchVolume,
)

from ._wait import wait_for

LABEL_PROJECT = "com.docker.compose.project"
REMOVAL_ELSEWHERE_TIMEOUT_S = 60.0
OWNER_DETACHED = "detached"


@dataclass(frozen=True)
class ResourceLabels:
    """The names of the harness's labels under one prefix."""

    prefix: str

    @property
    def harness(self) -> str:
        return f"{self.prefix}.harness"

    @property
    def run(self) -> str:
        return f"{self.prefix}.run"

    @property
    def owner(self) -> str:
        return f"{self.prefix}.owner"


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "noboot"


def owner_label(pid: int | None = None) -> str:
    return f"pid:{pid or os.getpid()}:{boot_id()}"


def owner_is_gone(owner: str, *, pid_alive: Callable[[int], bool] | None = None) -> bool:
    """True when ``owner`` names a process that cannot still be running."""
    if not owner.startswith("pid:"):
        return False  # detached / manual stacks are never swept
    try:
        _, pid_s, boot = owner.split(":", 2)
        pid = int(pid_s)
    except ValueError:
        return False
    if boot != boot_id():
        return True
    return not (pid_alive or _pid_alive)(pid)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _harness_resources(docker: Any, labels: ResourceLabels) -> list[tuple[str, Any]]:
    """(kind, resource) for every container, network and volume of any harness stack."""
    filters = [("label", labels.harness)]
    return ([("container", r) for r in docker.container.list(all=True, filters=filters)]
            + [("network", r) for r in docker.network.list(filters=filters)]
            + [("volume", r) for r in docker.volume.list(filters=filters)])


def orphaned_projects(docker: Any, labels: ResourceLabels) -> dict[str, str]:
    """project -> owner, for harness stacks whose owning process is gone."""
    found: dict[str, str] = {}
    for _, res in _harness_resources(docker, labels):
        tags = _labels(res)
        project, owner = tags.get(LABEL_PROJECT), tags.get(labels.owner, "")
        if project and owner_is_gone(owner):
            found[project] = owner
    return found


def leftovers(docker: Any, labels: ResourceLabels) -> list[str]:
    """'<owner> <kind> <name>' for every harness resource not deliberately left running
    (owner ``detached``), sorted."""
    found = []
    for kind, res in _harness_resources(docker, labels):
        owner = _labels(res).get(labels.owner, "")
        if owner != OWNER_DETACHED:
            found.append(f"{owner or '(no owner)'} {kind} {res.name}")
    return sorted(found)


def remove_project_resources(docker: Any, project: str) -> int:
    """Force-remove every container, network and volume of ``project``; return the count."""
    label = [("label", f"{LABEL_PROJECT}={project}")]
    listings: list[tuple[Callable[[], list[Any]], Callable[[list[Any]], Any]]] = [
        (lambda: docker.container.list(all=True, filters=label),
         lambda items: docker.container.remove(items, force=True, volumes=True)),
        (lambda: docker.network.list(filters=label), docker.network.remove),
        (lambda: docker.volume.list(filters=label), docker.volume.remove),
    ]
    count = 0
    for listing, remove in listings:
        items = list(listing())
        count += len(items)
        _remove(remove, items, listing, project)
    return count


def _remove(remove: Callable[[list[Any]], Any], items: list[Any],
            listing: Callable[[], list[Any]], project: str) -> None:
    """Remove all at once; if that fails, one by one, skipping those already gone.

    Another process (a concurrent sweep, a `down`) may be removing the same resources:
    Docker then answers "already in progress", and we wait for that removal to finish
    so that the next kind (networks after containers) is no longer in use.
    """
    if not items:
        return
    try:
        remove(items)
        return
    except DockerException:
        pass
    removed_elsewhere = False
    for item in items:
        try:
            remove([item])
        except (NoSuchContainer, NoSuchNetwork, NoSuchVolume):
            continue
        except DockerException as e:
            if "already in progress" not in str(e):
                raise
            removed_elsewhere = True
    if removed_elsewhere:
        wait_for(lambda: not listing(), timeout=REMOVAL_ELSEWHERE_TIMEOUT_S, interval=0.25,
                 transient=(DockerException,),
                 description=f"removal of {project}'s resources by another process")


def _labels(resource: Any) -> dict[str, str]:
    """Labels of a listed resource; {} when it vanished since the listing (a concurrent down)."""
    try:
        labels = getattr(resource, "labels", None)
        if labels is None and getattr(resource, "config", None) is not None:
            labels = resource.config.labels
    except DockerException:
        return {}
    return dict(labels or {})
