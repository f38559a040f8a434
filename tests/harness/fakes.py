"""Test doubles for the harness core: a fake clock and a fake python-on-whales DockerClient.

``FakeDocker`` has only what ``Stack`` uses. Each call is recorded (``calls``/``called``) and
checked against the real python-on-whales signature, so a misspelt keyword fails here as it
would against the real client. ``raises`` makes a call raise (a DockerException, a
KeyboardInterrupt, ...). Containers can change between polls: ``snapshots`` is the project's
container list as each successive ``Stack.status()`` sees it; the last one repeats.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from types import SimpleNamespace
from typing import Any

from python_on_whales.components.compose.cli_wrapper import ComposeCLI
from python_on_whales.components.container.cli_wrapper import ContainerCLI
from python_on_whales.components.image.cli_wrapper import ImageCLI
from python_on_whales.components.network.cli_wrapper import NetworkCLI
from python_on_whales.components.system.cli_wrapper import SystemCLI
from python_on_whales.components.volume.cli_wrapper import VolumeCLI
from python_on_whales.exceptions import DockerException

from harness.core import ResourceLabels

# The labels docker compose and the harness put on every resource (the contract under test).
# The harness's own labels are under the stack's label prefix; the tests use one of their own
# (not OptiInfra's), which proves the core takes it from StackConfig.
PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
LABEL_PREFIX = "test.harness"
LABELS = ResourceLabels(LABEL_PREFIX)
HARNESS = LABELS.harness
OWNER = LABELS.owner
RUN = LABELS.run


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it (or a test moves it)."""

    MAX_SLEEPS = 10_000  # a wait that never ends fails the test instead of hanging it

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) > self.MAX_SLEEPS:
            raise RuntimeError(f"FakeClock: {len(self.sleeps)} sleeps; is this wait endless?")
        self.now += seconds


def results(*outcomes: Any) -> Callable[[], Any]:
    """A condition returning (or raising, for exceptions) each outcome in turn; the last repeats."""
    queue = list(outcomes)

    def condition() -> Any:
        outcome = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return condition


def container(service: str, *, project: str = "e2e-test", state: str = "running",
              health: str | None = "healthy", health_output: str = "", exit_code: int = 0,
              ports: Mapping[int, int] | None = None, owner: str = "detached") -> Any:
    """A container as python-on-whales shows it; ``ports`` maps container port -> host port."""
    health_view = None if health is None else SimpleNamespace(
        status=health, log=[SimpleNamespace(output=health_output)] if health_output else [])
    return SimpleNamespace(
        name=f"{project}-{service}-1",
        config=SimpleNamespace(labels={PROJECT: project, SERVICE: service, HARNESS: "1",
                                       OWNER: owner}),
        state=SimpleNamespace(status=state, health=health_view, exit_code=exit_code),
        network_settings=SimpleNamespace(ports={
            f"{c}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(h)}]
            for c, h in (ports or {}).items()}),
    )


def resource(name: str, *, project: str | None = "e2e-test", owner: str = "detached") -> Any:
    """A network or volume (these carry ``.labels`` directly, unlike containers)."""
    labels = {HARNESS: "1", OWNER: owner}
    if project is not None:
        labels[PROJECT] = project
    return SimpleNamespace(name=name, labels=labels)


def docker_error(stderr: str, *, command: Iterable[str] = ("docker", "compose", "up"),
                 return_code: int = 1) -> DockerException:
    return DockerException(list(command), return_code, stdout=b"", stderr=stderr.encode())


class FakeDocker:
    """One engine with one compose project's services; containers of any project."""

    def __init__(self, *, services: Mapping[str, list[str]] | None = None,
                 snapshots: Iterable[Iterable[Any]] | None = None,
                 networks: Iterable[Any] = (), volumes: Iterable[Any] = (),
                 images: Iterable[str] = (), logs: Mapping[str, str] | None = None,
                 build_lines: Iterable[bytes] = ()) -> None:
        self.services = dict(services or {})  # compose service -> services it depends on
        self.snapshots = [list(s) for s in (snapshots or [[]])]
        self.networks = list(networks)
        self.volumes = list(volumes)
        self.images = set(images)
        self.logs = dict(logs or {})  # service -> log text
        self.build_lines = list(build_lines)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.raises: dict[str, BaseException] = {}  # "compose.up" -> what that call raises
        self.system = _Group(self, "system", SystemCLI, info=lambda: SimpleNamespace())
        self.compose = _Group(
            self, "compose", ComposeCLI, config=self._compose_config, up=_none, down=_none,
            build=lambda **_: iter([("stdout", line) for line in self.build_lines]),
            logs=lambda services=(), **_: "".join(self.logs.get(s, "") for s in services))
        self.container = _Group(self, "container", ContainerCLI, list=self._list_containers,
                                remove=self._remove_containers)
        self.network = _Group(self, "network", NetworkCLI,
                              list=lambda filters=(): _match(self.networks, filters),
                              remove=lambda networks: _remove(self.networks, networks))
        self.volume = _Group(self, "volume", VolumeCLI,
                             list=lambda filters=(): _match(self.volumes, filters),
                             remove=lambda x: _remove(self.volumes, x))
        self.image = _Group(self, "image", ImageCLI, exists=lambda x: x in self.images)

    @property
    def containers(self) -> list[Any]:
        """Every container there is now (all projects)."""
        return self.snapshots[0]

    def called(self, name: str) -> list[dict[str, Any]]:
        """Keyword arguments of each call of ``name`` (e.g. "compose.up"), in order."""
        return [kwargs for n, kwargs in self.calls if n == name]

    def _compose_config(self, return_json: bool = False) -> dict[str, Any]:
        if not return_json:  # not an AssertionError: Stack's wait would take it for a timeout
            raise NotImplementedError("FakeDocker answers `compose config` as JSON only")
        return {"services": {name: {"depends_on": {d: {"condition": "service_healthy"}
                                                   for d in deps}}
                             for name, deps in self.services.items()}}

    def _list_containers(self, all: bool = False, filters: Any = ()) -> list[Any]:
        found = _match(self.containers, filters)
        if _is_project_listing(filters) and len(self.snapshots) > 1:
            self.snapshots.pop(0)  # the next status() poll sees the next snapshot
        return found

    def _remove_containers(self, containers: list[Any], force: bool = False,
                           volumes: bool = False) -> None:
        for snapshot in self.snapshots:
            _remove(snapshot, containers)


class _Group:
    """One sub-client (``docker.compose``, ``docker.container``...): records, then acts."""

    def __init__(self, docker: FakeDocker, prefix: str, real: type,
                 **methods: Callable[..., Any]) -> None:
        for name, impl in methods.items():
            setattr(self, name, _recorded(docker, f"{prefix}.{name}", getattr(real, name), impl))


def _recorded(docker: FakeDocker, name: str, real: Callable[..., Any],
              impl: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(real)

    def call(*args: Any, **kwargs: Any) -> Any:
        # Bound by the real signature: a TypeError here is one the real client would raise.
        arguments = signature.bind(None, *args, **kwargs).arguments
        del arguments["self"]
        docker.calls.append((name, dict(arguments)))
        if name in docker.raises:
            raise docker.raises[name]
        return impl(**arguments)

    return call


def _none(**_: Any) -> None:
    return None


def _remove(store: list[Any], gone: list[Any]) -> None:
    store[:] = [r for r in store if not any(r is g for g in gone)]


def _labels(res: Any) -> dict[str, str]:
    return res.labels if hasattr(res, "labels") else res.config.labels


def filter_pairs(filters: Any) -> list[tuple[str, str]]:
    """python-on-whales takes filters as a mapping or as (key, value) pairs: as pairs."""
    return list(filters.items() if isinstance(filters, Mapping) else filters or ())


def _match(resources: list[Any], filters: Any) -> list[Any]:
    """docker's ``--filter label=k[=v]`` and ``--filter publish=<host port>``."""
    # The engine filters before listing: a resource removed since then is still listed.
    found = [r for r in resources if getattr(r, "listed_anyway", False)]
    resources = [r for r in resources if not getattr(r, "listed_anyway", False)]
    for key, value in filter_pairs(filters):
        if key == "label":
            k, _, v = value.partition("=")
            resources = [r for r in resources if k in _labels(r)
                         and (not v or _labels(r)[k] == v)]
        elif key == "publish":
            resources = [r for r in resources if any(
                b["HostPort"] == value for bs in r.network_settings.ports.values() for b in bs)]
        else:
            raise NotImplementedError(f"FakeDocker does not know the filter {key!r}")
    return found + resources


def _is_project_listing(filters: Any) -> bool:
    return any(k == "label" and v.startswith(f"{PROJECT}=") for k, v in filter_pairs(filters))

