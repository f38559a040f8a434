"""Owner labels and the sweep of stacks whose owning process died without tearing down."""

from __future__ import annotations

import os
import re

import pytest
from python_on_whales.exceptions import DockerException

from harness.core import OWNER_DETACHED, new_run_id, owner_is_gone, owner_label
from harness.core._resources import boot_id, orphaned_projects, remove_project_resources

from .fakes import HARNESS, LABELS, FakeDocker, container, docker_error, filter_pairs, resource

OTHER_BOOT = "pid:4242:0ther-b0"


def never_called(pid: int) -> bool:
    raise AssertionError(f"pid_alive({pid}) should not be consulted")


# -- owner labels ------------------------------------------------------------------------------

def test_owner_label_names_pid_and_boot():
    assert owner_label(4242) == f"pid:4242:{boot_id()}"
    assert owner_label() == f"pid:{os.getpid()}:{boot_id()}"


def test_run_ids_are_timestamped_and_unique():
    ids = {new_run_id() for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{6}", i) for i in ids), ids


@pytest.mark.parametrize("owner", [OWNER_DETACHED, "", "manual", "PID:1:x"])
def test_detached_or_foreign_owners_are_never_swept(owner):
    assert not owner_is_gone(owner, pid_alive=never_called)


def test_owner_from_another_boot_is_gone():
    assert boot_id() != "0ther-b0"
    assert owner_is_gone(OTHER_BOOT, pid_alive=never_called)


def test_dead_pid_on_this_boot_is_gone():
    asked: list[int] = []

    def dead(pid: int) -> bool:
        asked.append(pid)
        return False

    assert owner_is_gone(owner_label(4242), pid_alive=dead)
    assert asked == [4242]


def test_live_pid_on_this_boot_is_not_gone():
    assert not owner_is_gone(owner_label(4242), pid_alive=lambda pid: True)
    assert not owner_is_gone(owner_label())  # this process, checked for real


@pytest.mark.parametrize("owner", ["pid:", "pid:4242", "pid:abc:boot", "pid::boot"])
def test_malformed_owner_is_not_gone(owner):
    assert not owner_is_gone(owner, pid_alive=never_called)


# -- the sweep ---------------------------------------------------------------------------------

@pytest.fixture
def docker() -> FakeDocker:
    """Stacks: 'dead' (owner gone), 'kept' (detached), 'alive' (this process), 'netonly'
    (only a network left, owner gone), and an unlabelled volume of no project."""
    return FakeDocker(
        snapshots=[[
            container("db", project="dead", owner=OTHER_BOOT),
            container("db", project="kept", owner=OWNER_DETACHED),
            container("db", project="alive", owner=owner_label()),
        ]],
        networks=[resource("dead_default", project="dead", owner=OTHER_BOOT),
                  resource("netonly_default", project="netonly", owner=OTHER_BOOT),
                  resource("kept_default", project="kept")],
        volumes=[resource("dead_data", project="dead", owner=OTHER_BOOT),
                 resource("stray", project=None, owner=OTHER_BOOT)],
    )


def test_orphaned_projects_are_those_whose_owner_is_gone(docker):
    assert orphaned_projects(docker, LABELS) == {"dead": OTHER_BOOT, "netonly": OTHER_BOOT}
    (listing,) = docker.called("container.list")
    assert listing["all"] is True  # stopped containers too
    for kind in ("container", "network", "volume"):
        (call,) = docker.called(f"{kind}.list")
        assert filter_pairs(call["filters"]) == [("label", HARNESS)], kind


def test_remove_project_resources_removes_only_that_project(docker):
    assert remove_project_resources(docker, "dead") == 3
    assert [c.name for c in docker.containers] == ["kept-db-1", "alive-db-1"]
    assert [n.name for n in docker.networks] == ["netonly_default", "kept_default"]
    assert [v.name for v in docker.volumes] == ["stray"]
    (removed,) = docker.called("container.remove")
    assert [c.name for c in removed["containers"]] == ["dead-db-1"]
    assert removed["force"] is True and removed["volumes"] is True


def test_remove_project_resources_of_an_empty_project_removes_nothing(docker):
    assert remove_project_resources(docker, "nothing-here") == 0
    assert docker.called("container.remove") == []
    assert docker.called("network.remove") == []
    assert docker.called("volume.remove") == []


class _Vanished:
    """A container listed a moment ago and removed since (a concurrent `down`)."""

    name = "gone-db-1"
    listed_anyway = True

    @property
    def config(self):
        from python_on_whales.exceptions import NoSuchContainer

        raise NoSuchContainer(["docker", "container", "inspect", "x"], 1, b"", b"No such container")


def test_a_container_removed_between_list_and_inspect_is_skipped(docker):
    docker.containers.append(_Vanished())
    assert orphaned_projects(docker, LABELS) == {"dead": OTHER_BOOT, "netonly": OTHER_BOOT}


def _removing_elsewhere(docker: FakeDocker) -> list[str]:
    """Make container removal answer as when another process is removing them; that
    other removal completes once someone lists the containers again."""
    remove_for_real, list_for_real = docker.container.remove, docker.container.list
    elsewhere: list = []

    def remove(containers, force=False, volumes=False):
        elsewhere.extend(containers)
        raise docker_error(f"Error response from daemon: removal of container "
                           f"{containers[0].name} is already in progress",
                           command=("docker", "container", "rm"))

    def listing(all=False, filters=()):
        found = list_for_real(all=all, filters=filters)
        if elsewhere:
            remove_for_real(list(elsewhere))
            elsewhere.clear()
        return found

    docker.container.remove, docker.container.list = remove, listing
    return elsewhere


def test_a_removal_already_in_progress_elsewhere_is_waited_for(docker):
    _removing_elsewhere(docker)
    assert remove_project_resources(docker, "dead") == 3
    assert [c.name for c in docker.containers] == ["kept-db-1", "alive-db-1"]
    assert [n.name for n in docker.networks] == ["netonly_default", "kept_default"]


def test_other_removal_errors_are_not_swallowed(docker):
    docker.raises["container.remove"] = docker_error(
        "Error response from daemon: permission denied", command=("docker", "container", "rm"))
    with pytest.raises(DockerException, match="permission denied"):
        remove_project_resources(docker, "dead")
    assert [n.name for n in docker.networks][0] == "dead_default"  # nothing further attempted
