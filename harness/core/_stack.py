"""The stack's lifecycle over python-on-whales: up, status, logs, down, and never a leftover.

- ``up`` sweeps stacks of killed runs, checks host ports, builds (cached), starts, and waits
  until every service is healthy, with a deadline. A failed or interrupted start tears down
  what it started (unless keep_on_failure) and says which service failed and why.
- ``down`` removes containers, networks and volumes; signals during it are deferred.
"""

from __future__ import annotations

import contextlib
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from python_on_whales import DockerClient
from python_on_whales.client_config import ClientNotFoundError
from python_on_whales.exceptions import DockerException

from . import _resources as res
from ._config import StackConfig
from ._exceptions import (
    EngineUnavailableError,
    ServiceUnhealthyError,
    StackCommandError,
    StackStartError,
    UnhealthyService,
    WaitTimeoutError,
)
from ._ports import check_ports, describe_port_holder
from ._progress import StartProgress
from ._signals import interrupts_deferred, interrupts_raise
from ._status import ServiceStatus, StackStatus
from ._wait import wait_for

Printer = Callable[[str], None]
_UP_WORKER_GRACE_S = 30.0
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Stack:
    """One compose project. ``clock``/``sleep`` are injectable so tests never wait for real."""

    def __init__(self, config: StackConfig, *, docker: DockerClient | None = None,
                 out: Printer = _stderr, run_id: str | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.run_id = run_id or res.new_run_id()
        self._out = out
        self._clock = clock
        self._sleep = sleep
        self._env_file = config.state_dir / f"{config.project_name}.env"
        self._docker = docker or DockerClient(
            compose_files=[str(p) for p in config.compose_files],
            compose_project_name=config.project_name,
            compose_env_files=[str(self._env_file)],
        )
        self._compose_cfg: dict[str, Any] | None = None
        self._up_worker: threading.Thread | None = None

    @property
    def project(self) -> str:
        return self.config.project_name

    def _say(self, msg: str) -> None:
        self._out(f"[harness] {msg}")

    # -- queries ---------------------------------------------------------------------------

    def check_engine(self) -> None:
        try:
            self._docker.system.info()
        except (DockerException, FileNotFoundError, ClientNotFoundError) as exc:
            raise EngineUnavailableError(
                f"no Docker engine answers (`docker info` failed). {self.config.setup_hint}"
            ) from exc

    def services(self) -> dict[str, list[str]]:
        """Service name -> the services it depends on, from the compose files."""
        cfg = self._config_json()
        return {name: sorted((svc.get("depends_on") or {}).keys())
                for name, svc in (cfg.get("services") or {}).items()}

    def status(self) -> StackStatus:
        return self._status_of(self._containers())

    def _status_of(self, containers: list[Any]) -> StackStatus:
        deps = self.services()
        by_service: dict[str, ServiceStatus] = {}
        for container in containers:
            try:
                name = container.config.labels.get("com.docker.compose.service", container.name)
                by_service[name] = ServiceStatus.from_container(name, container,
                                                                deps.get(name, []))
            except DockerException:
                continue  # removed since it was listed: it is missing, as below

        return StackStatus(project=self.project, host=self.config.host, services=[
            by_service.get(name) or ServiceStatus(name=name, depends_on=deps[name])
            for name in sorted(deps)
        ])

    def is_running(self) -> bool:
        """True when every service of this project is up and healthy."""
        try:
            return self.status().all_ready
        except (DockerException, StackCommandError):
            return False

    def exists(self) -> bool:
        return bool(self._containers())

    def owner(self) -> str | None:
        for c in self._containers():
            owner: str | None = c.config.labels.get(self.config.labels.owner)
            return owner
        return None

    def logs(self, service: str | None = None, *, since: datetime | str | None = None,
             tail: int | None = None, timestamps: bool = True) -> str:
        if isinstance(since, datetime):
            since = since.isoformat()
        try:
            text = self._docker.compose.logs(
                services=[service] if service else [], since=since, timestamps=timestamps,
                tail=str(tail) if tail is not None else None, no_log_prefix=service is not None)
            return _ANSI.sub("", text)
        except DockerException as exc:
            raise _command_error(f"could not read logs of {service or 'the stack'}", exc) from exc

    # -- lifecycle -------------------------------------------------------------------------

    def up(self, *, owner: str = res.OWNER_DETACHED, timeout: float | None = None,
           build: bool | None = None) -> StackStatus:
        """Start the stack and wait until every service is healthy; tear down on failure."""
        started = self._clock()
        timeout = self.config.up_timeout_s if timeout is None else timeout
        self.check_engine()
        self.sweep_orphans()
        self._pick_base_image()
        containers = self._containers()
        current = self._status_of(containers)
        # A stack that existed before this call and belongs to no live session (one from
        # `make start-test-env`) is not ours to remove when completing it fails.
        theirs = False
        if current.any_created:
            # Keep the labels of the containers that exist: new ones would make compose
            # recreate a running stack (and take it from its owner) instead of completing it.
            found = _labels_of(containers, self.config.labels)
            self.run_id, owner = found or (self.run_id, owner)
            theirs = found is not None and found[1] == res.OWNER_DETACHED
        self._write_env_file(owner)
        if current.all_ready:
            self._say(f"stack '{self.project}' is already up and healthy; reusing it")
            return current
        self._check_ports(current)
        with interrupts_raise():
            try:
                build_s = None
                if self.config.build if build is None else build:
                    build_s = self._build()
                else:
                    self._say("build skipped (images already built)")
                self._say(f"starting stack '{self.project}' (run {self.run_id})...")
                # The health deadline starts now: a cold build must not eat into it.
                health_started = self._clock()
                progress = StartProgress(self._say, self._clock, health_started,
                                         every_s=self.config.progress_interval_s)
                try:
                    self._compose_up(progress)
                except DockerException as exc:
                    # compose gives up when a dependency turns unhealthy: say which and why.
                    self._raise_diagnosis(f"compose up failed ({_last_line(exc)})",
                                          health_started, failure=exc)
                created_s = self._clock() - health_started
                self._say(f"containers created and started in {created_s:.1f}s "
                          "(compose up waits for the dependencies each service needs healthy)")
                status = self._wait_healthy(health_started, timeout, progress)
            except BaseException as exc:
                if theirs:
                    self._say("start failed on a detached stack that was already there; "
                              "left as it was for its owner (`python -m harness down` "
                              "removes it)")
                else:
                    self._teardown_after_failure(exc)
                raise
        now = self._clock()
        steps = "" if build_s is None else f"build {build_s:.1f}s, "
        self._say(f"all {len(status.services)} services healthy in {now - started:.1f}s "
                  f"({steps}created {created_s:.1f}s, healthy "
                  f"{now - health_started - created_s:.1f}s after that)")
        return status

    def down(self, *, quiet: bool = False) -> float:
        """Remove the stack's containers, networks and volumes; return seconds taken."""
        started = self._clock()
        with interrupts_deferred():
            if not quiet:
                self._say(f"tearing down stack '{self.project}'...")
            # No env file: this checkout never started the stack (or it is gone already), and
            # compose cannot run without it; the labels still find whatever exists.
            started_here = self._env_file.exists()
            if started_here:
                try:
                    self._docker.compose.down(volumes=True, remove_orphans=True, timeout=5,
                                              quiet=True)
                except DockerException as exc:
                    self._say(f"compose down failed ({_last_line(exc)}); removing by label")
            # Whatever compose missed (a half-created stack, a renamed service) goes by label.
            found = res.remove_project_resources(self._docker, self.project)
            with contextlib.suppress(FileNotFoundError):
                self._env_file.unlink()
        elapsed = self._clock() - started
        if not quiet:
            if started_here or found:
                self._say(f"stack '{self.project}' removed in {elapsed:.1f}s")
            else:
                self._say(f"stack '{self.project}': nothing to remove")
        return elapsed

    def leftovers(self) -> list[str]:
        """'<owner> <kind> <name>' for each resource of any harness stack (this label prefix)
        that was not deliberately left running (owner ``detached``)."""
        return res.leftovers(self._docker, self.config.labels)

    def sweep_orphans(self) -> list[str]:
        """Remove stacks whose owning process died without tearing down."""
        swept = []
        for project, owner in res.orphaned_projects(self._docker, self.config.labels).items():
            n = res.remove_project_resources(self._docker, project)
            self._say(f"swept {n} resources of stack '{project}' left by dead owner {owner}")
            swept.append(project)
        return swept

    @contextlib.contextmanager
    def running(self, *, owner: str | None = None) -> Iterator[StackStatus]:
        """``with stack.running():`` up, yield, and always down."""
        status = self.up(owner=owner or res.owner_label())
        try:
            yield status
        finally:
            self.down()

    # -- internals -------------------------------------------------------------------------

    def _config_json(self) -> dict[str, Any]:
        if self._compose_cfg is None:
            for f in self.config.compose_files:
                if not Path(f).is_file():
                    raise StackCommandError(f"compose file {f} not found (cwd {Path.cwd()}); "
                                            "run from the repository root or set E2E_COMPOSE_FILE.")
            self._write_env_file(res.OWNER_DETACHED, only_if_missing=True)
            try:
                self._compose_cfg = self._docker.compose.config(return_json=True)
            except DockerException as exc:
                raise _command_error("the compose file does not parse", exc) from exc
        return self._compose_cfg or {}

    def _containers(self) -> list[Any]:
        try:
            return list(self._docker.container.list(
                all=True, filters=[("label", f"{res.LABEL_PROJECT}={self.project}")]))
        except DockerException as exc:
            raise _command_error("could not list the stack's containers", exc) from exc

    def _write_env_file(self, owner: str, *, only_if_missing: bool = False) -> None:
        if only_if_missing and self._env_file.exists():
            return
        env = self.config.compose_env()
        env.update({"E2E_RUN_ID": self.run_id, "E2E_RUN_OWNER": owner})
        self._env_file.parent.mkdir(parents=True, exist_ok=True)
        self._env_file.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))

    def _check_ports(self, current: StackStatus) -> None:
        ours = {h for s in current.services for h in s.ports.values()}
        defined = self.services()
        wanted = [(self.config.host_port(p), p.service) for p in self.config.ports
                  if p.service in defined and self.config.host_port(p) not in ours]
        check_ports(wanted, host=self.config.host, describe_holder=self._describe_holder)

    def _pick_base_image(self) -> None:
        if self.config.base_image:
            return
        for name in self.config.base_image_candidates:
            with contextlib.suppress(DockerException):
                if self._docker.image.exists(name):
                    self.config = self.config.model_copy(update={"base_image": name})
                    return

    def _describe_holder(self, port: int) -> str:
        with contextlib.suppress(DockerException):
            for c in self._docker.container.list(filters=[("publish", str(port))]):
                project = (c.config.labels or {}).get(res.LABEL_PROJECT)
                where = f" of compose project '{project}'" if project else ""
                return f"container '{c.name}'{where} (docker ps)"
        return describe_port_holder(port, self.config.host)

    def _compose_up(self, progress: StartProgress) -> None:
        """``compose up -d`` blocks while the services others depend on turn healthy (minutes
        on a cold engine): it runs in a thread so that this one can say what is starting."""
        failure: list[BaseException] = []

        def run() -> None:
            try:
                self._docker.compose.up(detach=True, quiet=True)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failure.append(exc)

        worker = threading.Thread(target=run, name=f"compose-up-{self.project}", daemon=True)
        self._up_worker = worker
        worker.start()
        while True:
            worker.join(self.config.poll_interval_s)
            if not worker.is_alive():
                break
            with contextlib.suppress(DockerException, StackCommandError):
                progress.observe(self.status())
        if failure:
            raise failure[0]

    def _build(self) -> float:
        self._say("building images (cached layers make this quick when nothing changed)...")
        t0 = self._clock()
        try:
            for _source, line in self._docker.compose.build(stream_logs=True):
                text = line.decode(errors="replace").rstrip()
                # BuildKit prints each step's start as "#N [service stage i/n] INSTRUCTION".
                if re.match(r"#\d+ \[\S+ ", text) and "internal]" not in text:
                    self._out(f"  [build] {text.split(' ', 1)[1][:150]}")
        except DockerException as exc:
            raise StackStartError("image build failed", project=self.project,
                                  command=" ".join(exc.docker_command),
                                  output=(exc.stdout or "") + (exc.stderr or "")) from exc
        took = self._clock() - t0
        self._say(f"images ready in {took:.1f}s")
        return took

    def _wait_healthy(self, started: float, timeout: float,
                      progress: StartProgress) -> StackStatus:
        remaining = max(0.0, timeout - (self._clock() - started))

        def snapshot() -> StackStatus:
            status = self.status()
            progress.observe(status)
            if any(s.failed for s in status.services):
                self._raise_diagnosis("a service failed its healthcheck or exited", started,
                                      status)
            return status

        try:
            return wait_for(snapshot, timeout=remaining, interval=self.config.poll_interval_s,
                            until=lambda st: st.all_ready,
                            description=f"all services of '{self.project}' healthy",
                            clock=self._clock, sleep=self._sleep)
        except WaitTimeoutError as exc:
            last = getattr(exc.report, "last_value", None)
            self._raise_diagnosis(f"not every service was healthy within {timeout:g}s",
                                  started, last if isinstance(last, StackStatus) else None)
            raise  # unreachable: _raise_diagnosis always raises

    def _raise_diagnosis(self, reason: str, started: float, status: StackStatus | None = None,
                         failure: DockerException | None = None) -> None:
        status = status or self.status()
        bad = [s for s in status.services if not s.ready]
        # Report the root causes first: services that failed, not those waiting on them.
        culprits = [s for s in bad if s.failed] or [s for s in bad if s.state != "missing"] or bad
        diagnosed = []
        for s in culprits:
            waiting = [o.name for o in status.services if s.name in o.depends_on and not o.ready]
            tail = ""
            if s.state != "missing":
                with contextlib.suppress(StackCommandError):
                    tail = self.logs(s.name, tail=25, timestamps=False)
            diagnosed.append(UnhealthyService(
                name=s.name, state=s.state, health=s.health,
                last_health_output=s.last_health_output, log_tail=tail.rstrip(),
                waiting_on_it=waiting))
        raise ServiceUnhealthyError(
            reason, project=self.project, services=diagnosed,
            elapsed_s=self._clock() - started,
            command=" ".join(map(str, failure.docker_command)) if failure else "",
            output=((failure.stdout or "") + (failure.stderr or "")) if failure else "")

    def _teardown_after_failure(self, exc: BaseException) -> None:
        what = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        if self.config.keep_on_failure and not isinstance(exc, KeyboardInterrupt):
            self._say(f"start {what}; keeping the containers as asked (--keep-on-failure). "
                      f"Remove them with `python -m harness down`.")
            return
        self._say(f"start {what}; tearing down what was started...")
        try:
            self.down(quiet=True)
            worker = self._up_worker
            if worker is not None and worker.is_alive():
                # An interrupted `compose up` may still be creating containers (SIGTERM reaches
                # this process only): let it end, then remove what it made after the down.
                worker.join(_UP_WORKER_GRACE_S)
                self.down(quiet=True)
        except Exception as down_exc:  # noqa: BLE001 - report, keep the original error
            self._say(f"teardown after failure also failed: {down_exc}")


def _labels_of(containers: list[Any], names: res.ResourceLabels) -> tuple[str, str] | None:
    """(run id, owner) from the first container that carries both labels."""
    for c in containers:
        try:
            labels: dict[str, str] = c.config.labels or {}
        except DockerException:
            continue
        if names.run in labels and names.owner in labels:
            return labels[names.run], labels[names.owner]
    return None


def _last_line(exc: DockerException) -> str:
    text = (exc.stderr or exc.stdout or "").strip().splitlines()
    return text[-1] if text else f"exit code {exc.return_code}"


def _command_error(message: str, exc: DockerException) -> StackCommandError:
    return StackCommandError(message, command=" ".join(map(str, exc.docker_command)),
                             output=(exc.stdout or "") + (exc.stderr or ""))
