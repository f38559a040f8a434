"""The real parts of a mutation run: scratch copies from git, the platform image built and
swapped on the running stack with python-on-whales, datastores reset through their own
clients, and pytest in a subprocess with a deadline."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException

from harness.core import StackConfig, WaitTimeoutError, wait_for
from harness.domain import Endpoints, clickhouse_connect, postgres_connect, redis_connect

from ._catalogue import Mutant
from ._engine import Deployment, DoesNotApply, SuiteRun
from ._exceptions import MutationSetupError
from ._imports import files_of

# What the platform image is built from (compose/platform/Dockerfile's COPY sources).
SOURCE_PATHS = ("optiinfra", "compose/platform")
WHEELHOUSE = ".wheelhouse/platform"
# between mutants: drop the stores and restart every service | empty them in place and
# restart what changes | keep the data
RESETS = ("full", "data", "none")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
Printer = Callable[[str], None]


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True,
                          check=False)


class GitWorkspace:
    """Scratch copies of the platform's committed source (``git archive <rev>``), one fresh
    copy per mutant, so other work in the checkout never leaks into a mutant's image."""

    def __init__(self, repo: Path, rev: str = "HEAD") -> None:
        self.repo, self.rev = repo, rev
        self.root = Path(tempfile.mkdtemp(prefix="optiinfra-mutation-"))
        self.pristine, self.work = self.root / "pristine", self.root / "work"
        got = _git(repo, "rev-parse", "--short", rev)
        if got.returncode != 0:
            self.cleanup()
            raise MutationSetupError(f"git cannot resolve {rev!r} in {repo}: "
                                     f"{got.stderr.decode().strip()}")
        self.commit = got.stdout.decode().strip()
        archive = _git(repo, "archive", "--format=tar", rev, *SOURCE_PATHS)
        if archive.returncode != 0:
            self.cleanup()
            raise MutationSetupError(f"`git archive {rev}` failed: "
                                     f"{archive.stderr.decode().strip()}")
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(self.pristine, filter="data")
        wheels = repo / WHEELHOUSE
        if not wheels.is_dir():
            self.cleanup()
            raise MutationSetupError(f"no wheelhouse {wheels}: `make images` downloads it")
        self._wheels = wheels

    def read_source(self, path: str) -> bytes | None:
        """A file of the unpatched source (None: not in it)."""
        try:
            return (self.pristine / path).read_bytes()
        except OSError:
            return None

    def uncommitted_platform_changes(self) -> list[str]:
        got = _git(self.repo, "status", "--porcelain", "--", *SOURCE_PATHS)
        return [line[3:] for line in got.stdout.decode().splitlines() if line.strip()]

    def prepare(self, mutant: Mutant | None) -> Path:
        """A fresh copy with ``mutant`` applied (None: the source as it is)."""
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.copytree(self.pristine, self.work)
        # The build context needs the wheelhouse; hard links cost nothing (copy across devices).
        shutil.copytree(self._wheels, self.work / WHEELHOUSE, copy_function=_link_or_copy)
        (self.work / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n")
        if mutant is None:
            return self.work
        for args in (["apply", "--check"], ["apply"]):
            got = subprocess.run(["git", *args, "-"], cwd=self.work, input=mutant.diff.encode(),
                                 capture_output=True, check=False,
                                 env={**os.environ, "GIT_DIR": str(self.root / "no-repo")})
            if got.returncode != 0:
                raise DoesNotApply(f"`git apply` refuses {mutant.path.name} on {self.commit}: "
                                   + " ".join(got.stderr.decode().split())[:400])
        return self.work

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class DockerPlatform:
    """The running stack's platform services, swapped to another image of the same build.

    Datastores stay up. Before each mutant (``reset="data"``, the default) they are emptied
    in place through their own clients (tables truncated, streams recreated empty with their
    consumer groups, collections recreated from their own configuration, the AWS simulator
    reset), and only the services whose image changes restart (the patched image where a
    service loads a patched file, the baseline where an earlier mutant ran): each mutant
    meets the stores of a fresh stack. A service the patch leaves alone keeps what it holds
    in memory; per-customer state only, since every test has its own customer.

    ``reset="full"``: every platform service is stopped, the stores' contents dropped, and
    every service started again, recreating its schema, streams and collections: nothing of
    the mutant before survives, at 20-50 s more per mutant on this machine (seven services
    start and turn healthy). The baseline and the final restore always do this.
    ``reset="none"``: the data is kept."""

    def __init__(self, config: StackConfig, endpoints: Endpoints, *, out: Printer = print,
                 platform_image: str = "optiinfra-e2e/platform:local",
                 health_timeout_s: float | None = None, reset: str = "data") -> None:
        if reset not in RESETS:
            raise MutationSetupError(f"reset {reset!r}: one of {', '.join(RESETS)}")
        self.config, self.endpoints, self._out = config, endpoints, out
        self.reset = reset
        # as long as `up` waits (E2E_UP_TIMEOUT): a loaded machine starts services slowly
        self.platform_image = platform_image
        self.health_timeout_s = health_timeout_s or config.up_timeout_s
        self.env_file = config.state_dir / f"{config.project_name}.env"
        if not self.env_file.is_file():
            raise MutationSetupError(
                f"stack '{config.project_name}' is not running from this checkout (no "
                f"{self.env_file}): start it with `make start-test-env` (same E2E_PROJECT and "
                "E2E_PORT_OFFSET), then run the mutation again")
        self.scratch = Path(tempfile.mkdtemp(prefix="optiinfra-mutation-compose-"))
        self.override = self.scratch / "platform-image.override.yml"
        self._docker = self._client([])
        self._entries = self._platform_entries()
        self.services = sorted(self._entries)
        self._sources: dict[str, Path] = {}  # image tag -> the source it was built from
        self.current: dict[str, str] = {}  # service -> image it runs (as deployed here)
        self.baseline: str | None = None
        if not self.services:
            raise MutationSetupError(f"no service of {config.compose_files} runs "
                                     f"{platform_image}; nothing to mutate")
        self.base_image = self._env().get("E2E_BASE_IMAGE") or os.environ.get(
            "E2E_BASE_IMAGE") or "debian:bookworm-slim"

    def _env(self) -> dict[str, str]:
        out = {}
        for line in self.env_file.read_text().splitlines():
            key, _, value = line.partition("=")
            out[key] = value
        return out

    def _client(self, extra: list[Path]) -> DockerClient:
        return DockerClient(
            compose_files=[str(p) for p in [*self.config.compose_files, *extra]],
            compose_project_name=self.config.project_name,
            compose_env_files=[str(self.env_file)])

    def _platform_entries(self) -> dict[str, str | None]:
        """Platform services and the module each runs (``python -m <module>``; None: not
        known, so any patch restarts it)."""
        cfg: dict[str, Any] = self._docker.compose.config(return_json=True)
        out: dict[str, str | None] = {}
        for name, svc in (cfg.get("services") or {}).items():
            if svc.get("image") != self.platform_image:
                continue
            cmd = svc.get("command") or []
            out[name] = cmd[cmd.index("-m") + 1] if "-m" in cmd[:-1] else None
        return out

    def build(self, source: Path, tag: str) -> None:
        """compose builds with the engine's BuildKit, so every layer but the source COPY comes
        from the cache of `make images`."""
        build_file = self.scratch / "build.yml"
        build_file.write_text(
            "services:\n  platform-mutant:\n"
            f"    image: {tag}\n"
            f"    build:\n      context: {source}\n"
            f"      dockerfile: {source / 'compose/platform/Dockerfile'}\n"
            f"      args: {{BASE_IMAGE: {self.base_image}}}\n")
        client = DockerClient(compose_files=[str(build_file)],
                              compose_project_name=f"{self.config.project_name}-mutant-build")
        t0 = time.monotonic()
        try:
            client.compose.build(quiet=True)
        except DockerException as exc:
            tail = "\n".join(((exc.stderr or "") + (exc.stdout or "")).splitlines()[-15:])
            raise MutationSetupError(f"build of {tag} failed:\n{tail}") from exc
        self._sources[tag] = source
        self._out(f"[mutation]   image {tag} built in {time.monotonic() - t0:.1f}s")

    def affected(self, tag: str, files: Sequence[str]) -> list[str]:
        """Services that load one of ``files`` (every service for a non-Python file, e.g.
        the price catalogue, which is read at run time)."""
        if any(not f.endswith(".py") for f in files):
            return list(self.services)
        source, changed = self._sources[tag], set(files)
        out = []
        for service in self.services:
            entry = self._entries.get(service)
            if entry is None or files_of(source, entry) & changed:
                out.append(service)
        return out

    def deploy(self, tag: str | None, *, files: Sequence[str] | None = None) -> Deployment:
        """``files`` None: every platform service on ``tag`` (None: the stack's own image).
        Otherwise the services that load one of ``files`` go to ``tag`` and the others run
        the baseline. How the datastores are reset and which services restart: ``reset``."""
        t0 = time.monotonic()
        phases: dict[str, float] = {}

        def phase(name: str, since: float) -> float:
            now = time.monotonic()
            phases[name] = round(now - since, 1)
            return now

        if files is None or self.baseline is None:
            want = {s: tag or self.platform_image for s in self.services}
        else:
            hit = self.affected(tag or self.baseline, files)
            if not hit:
                return Deployment(True, 0.0, "no platform service loads the patched files")
            want = {s: (tag if s in hit and tag else self.baseline) for s in self.services}
        full = files is None or self.reset == "full"
        restart = (list(self.services) if full else
                   [s for s in self.services if want[s] != self.current.get(s)])
        mark = time.monotonic()
        if restart:
            try:
                # Killed, not stopped: their state is about to be replaced, and a graceful
                # stop of seven services costs 15-20 s.
                self._docker.compose.kill(restart)
                self._docker.compose.rm(restart, stop=True)
            except DockerException as exc:
                return Deployment(False, time.monotonic() - t0,
                                  f"could not stop {', '.join(restart)}: {_tail(exc)}", True,
                                  phases)
            mark = phase("stop", mark)
            self.current = {s: img for s, img in self.current.items() if s not in restart}
        if full or self.reset == "data":
            try:
                self.reset_datastores(in_place=not full)
            except Exception as exc:  # noqa: BLE001 - reported with the store that failed
                return Deployment(False, time.monotonic() - t0, f"datastore reset failed: {exc}",
                                  True, phases)
            mark = phase("reset", mark)
        if not restart:
            return Deployment(True, time.monotonic() - t0, "every service already runs its "
                              "image", phases=phases)
        # The services start together: each retries its own connections (and the datastores
        # are up), so compose's one-after-the-other start through depends_on only costs time.
        self.override.write_text("services:\n" + "".join(
            f"  {s}:\n    depends_on: !reset {{}}\n"
            + (f"    image: {want[s]}\n    pull_policy: never\n"
               if want[s] != self.platform_image else "")
            for s in self.services))
        client = self._client([self.override])
        try:
            client.compose.up(restart, detach=True, dependencies=False, quiet=True)
        except DockerException as exc:
            return Deployment(False, time.monotonic() - t0, f"compose up failed: {_tail(exc)}",
                              True, phases)
        mark = phase("start", mark)
        healthy, detail = self._wait_healthy(client, restart)
        mark = phase("healthy", mark)
        if healthy:
            self.warm_up()
            phase("warm-up", mark)
        seconds = time.monotonic() - t0
        if healthy:
            self.current.update({s: want[s] for s in restart})
            if files is None and tag is not None:
                self.baseline = tag  # the unpatched build every later mutant returns to
            patched = sorted(s for s in restart if want[s] == tag and files is not None)
            self._out(f"[mutation]   {len(restart)} service(s) restarted"
                      f"{' after a datastore reset' if 'reset' in phases else ''}, healthy in "
                      f"{seconds:.1f}s" + (f"; on the mutant: {', '.join(patched)}"
                                           if patched else f" on {tag or self.platform_image}"))
        return Deployment(healthy, seconds, detail, phases=phases)

    def _wait_healthy(self, client: DockerClient, services: list[str]) -> tuple[bool, str]:
        states: dict[str, str] = {}
        crashed = False

        def poll() -> bool:
            nonlocal crashed
            states.clear()
            for c in client.compose.ps(services, all=True):
                svc = (c.config.labels or {}).get("com.docker.compose.service", c.name)
                health = c.state.health.status if c.state.health else None
                states[svc] = health or c.state.status or "?"
                # A service that keeps crashing will not turn healthy: say so now.
                if (c.restart_count or 0) >= 2:
                    states[svc] = f"crashing (restarted {c.restart_count}x)"
                    crashed = True
            return crashed or all(states.get(s) == "healthy" for s in services)

        # A timeout is diagnosed below from the last states seen.
        with contextlib.suppress(WaitTimeoutError):
            wait_for(poll, timeout=self.health_timeout_s, interval=0.5,
                     description=f"services {', '.join(services)} healthy")
        if not crashed and all(states.get(s) == "healthy" for s in services):
            return True, ""
        bad = [s for s in services if states.get(s) != "healthy"]
        logs, first = "", bad[0] if bad else ""
        with contextlib.suppress(DockerException):
            first = next((s for s in bad if states.get(s, "").startswith("crashing")), bad[0])
            logs = _ANSI.sub("", client.compose.logs([first], tail="15", no_log_prefix=True))
        return False, ("not healthy" + ("" if crashed else
                                        f" after {self.health_timeout_s:.0f}s") + ": "
                       + ", ".join(f"{s}={states.get(s, 'missing')}" for s in bad)
                       + (f"; last log lines of {first}:\n{logs}" if logs else ""))

    def warm_up(self) -> None:
        """One customer's cost query through portal, orchestrator, cost agent and simulator:
        the first call after a restart pays for imports and connections (it timed out the
        first test on a loaded machine). Best effort: a mutant that breaks it is for the
        tests to find."""
        ep = self.endpoints
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError), httpx.Client(
                base_url=ep.portal_url, timeout=90) as http:
            made = http.post("/api/v1/customers", json={"name": "mutation-warm-up"},
                             headers={"X-Admin-Token": ep.admin_token})
            token = made.json()["api_token"]
            http.get("/api/v1/costs", headers={"Authorization": f"Bearer {token}"})

    def reset_datastores(self, *, in_place: bool = False) -> None:
        """Empty every store the platform writes (in parallel: each takes a few seconds).
        Dropped: the services recreate their schemas, tables, streams and collections on
        start. ``in_place``: emptied but kept, for services that keep running."""
        ep = self.endpoints
        steps: dict[str, Callable[[Endpoints], None]] = (
            {"postgres": _empty_postgres, "redis": _empty_redis,
             "clickhouse": _empty_clickhouse, "qdrant": _empty_qdrant, "aws": _reset_aws}
            if in_place else
            {"postgres": _reset_postgres, "redis": _reset_redis,
             "clickhouse": _reset_clickhouse, "qdrant": _reset_qdrant, "aws": _reset_aws})
        with ThreadPoolExecutor(len(steps)) as pool:
            futures = {name: pool.submit(fn, ep) for name, fn in steps.items()}
        for name, fut in futures.items():
            exc = fut.exception()
            if exc is not None:
                raise RuntimeError(f"{name}: {type(exc).__name__}: {exc}") from exc

    def remove_image(self, tag: str) -> None:
        with contextlib.suppress(DockerException):
            self._docker.image.remove(tag, force=True)

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def _reset_postgres(ep: Endpoints) -> None:
    _on_postgres_tables(ep, "DROP TABLE IF EXISTS {} CASCADE")


def _empty_postgres(ep: Endpoints) -> None:
    # lock_timeout: a running service's open transaction holds a lock for a moment
    _on_postgres_tables(ep, "TRUNCATE {} RESTART IDENTITY CASCADE", "SET lock_timeout = '20s'")


def _on_postgres_tables(ep: Endpoints, statement: str, *before: str) -> None:
    """``statement`` once over every table of the public schema (none: nothing runs)."""
    pg = postgres_connect(ep)
    try:
        pg.autocommit = True
        for sql in before:
            pg.execute(sql)
        tables = [r[0] for r in pg.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        if tables:
            pg.execute(statement.format(", ".join(f'"{t}"' for t in tables)))
    finally:
        pg.close()


def _reset_redis(ep: Endpoints) -> None:
    rds = redis_connect(ep)
    try:
        rds.flushall()
    finally:
        rds.close()


def _empty_redis(ep: Endpoints) -> None:
    """Every key goes; a stream is recreated empty with its consumer groups in one
    transaction, so a running consumer never meets a missing group."""
    rds = redis_connect(ep)
    try:
        for key in rds.scan_iter(count=500):
            if rds.type(key) != "stream":
                rds.delete(key)
                continue
            groups = [g["name"] for g in rds.xinfo_groups(key)]
            pipe = rds.pipeline(transaction=True)
            pipe.delete(key)
            for group in groups:
                pipe.xgroup_create(key, group, id="0", mkstream=True)
            pipe.execute()
    finally:
        rds.close()


def _reset_clickhouse(ep: Endpoints) -> None:
    _on_clickhouse_tables(ep, "DROP TABLE IF EXISTS")


def _empty_clickhouse(ep: Endpoints) -> None:
    _on_clickhouse_tables(ep, "TRUNCATE TABLE IF EXISTS")


def _on_clickhouse_tables(ep: Endpoints, statement: str) -> None:
    ch = clickhouse_connect(ep)
    try:
        for (table,) in ch.execute("SHOW TABLES"):
            ch.execute(f"{statement} `{table}`")
    finally:
        ch.disconnect()


def _reset_qdrant(ep: Endpoints) -> None:
    # Plain HTTP: importing qdrant-client alone costs seconds.
    with httpx.Client(base_url=ep.qdrant_url, timeout=30) as http:
        for name in _qdrant_collections(http):
            http.delete(f"/collections/{name}").raise_for_status()


def _empty_qdrant(ep: Endpoints) -> None:
    """Each collection recreated from its own vector settings: a running service has
    checked once that it exists and does not look again."""
    with httpx.Client(base_url=ep.qdrant_url, timeout=30) as http:
        for name in _qdrant_collections(http):
            info = http.get(f"/collections/{name}")
            info.raise_for_status()
            vectors = info.json()["result"]["config"]["params"]["vectors"]
            http.delete(f"/collections/{name}").raise_for_status()
            http.put(f"/collections/{name}", json={"vectors": vectors}).raise_for_status()


def _qdrant_collections(http: httpx.Client) -> list[str]:
    got = http.get("/collections")
    got.raise_for_status()
    return [col["name"] for col in got.json()["result"]["collections"]]


def _reset_aws(ep: Endpoints) -> None:
    httpx.post(ep.aws_url + "/moto-api/reset", timeout=30).raise_for_status()


def _tail(exc: DockerException) -> str:
    text = ((exc.stderr or "") + (exc.stdout or "")).strip().splitlines()
    return " | ".join(text[-5:])


class PytestRunner:
    """The selected e2e tests in subprocesses on the running stack: in the given order (no
    random order), stopping at the first failure, killed at the deadline. Tests marked
    ``serial`` (they restart shared services) run first and alone, the rest with xdist."""

    def __init__(self, *, workers: int = 0, extra_args: Sequence[str] = (),
                 python: str = sys.executable, cwd: Path | None = None) -> None:
        self.workers, self.extra_args, self.python, self.cwd = workers, extra_args, python, cwd

    def command(self, tests: Sequence[str], out_dir: Path, *, serial: bool,
                exclude: Sequence[str] = ()) -> list[str]:
        part = "serial" if serial else "parallel"
        cmd = [self.python, "-m", "pytest", *tests, "-x", "-q", "-p", "no:randomly",
               *(f"--deselect={t}" for t in exclude),
               "-p", "no:cacheprovider", "-m", "serial" if serial else "not serial",
               "--no-build", "--keep-stack", "--no-bundle",
               f"--junitxml={out_dir / f'junit-{part}.xml'}",
               f"--artifacts-dir={out_dir / 'artifacts'}"]
        # Hypothesis and schemathesis load as pytest plugins in every session and cost
        # seconds to import (12 s of 20 under load here): only when a selected file uses them.
        if not any(self._mentions(t, ("hypothesis", "schemathesis")) for t in tests):
            cmd += ["-p", "no:schemathesis", "-p", "no:hypothesispytest"]
        # one node id gains nothing from workers, and starting them costs seconds
        workers = min(self.workers, 1 if _single(tests) else self.workers)
        parallel = workers > 1 and not serial
        cmd += ["-n", str(workers)] if parallel else ["-p", "no:xdist"]
        return cmd + list(self.extra_args)

    def run(self, tests: Sequence[str], timeout: float, out_dir: Path, *,
            exclude: Sequence[str] = ()) -> SuiteRun:
        out_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        total, inside = 0, 0.0
        # A pytest start costs seconds: the serial part only when a selected file has any.
        parts = [True, False] if any(self.may_be_serial(t) for t in tests) else [False]
        for serial in parts:
            left = timeout - (time.monotonic() - t0)
            got = self._session(tests, max(left, 1.0), out_dir, serial=serial, exclude=exclude)
            total += got.tests_run
            inside += got.test_seconds
            if got.status != "passed":
                return dataclasses.replace(got, seconds=time.monotonic() - t0, tests_run=total,
                                           test_seconds=inside)
        return SuiteRun("passed", time.monotonic() - t0, tests_run=total, test_seconds=inside)

    def may_be_serial(self, test: str) -> bool:
        return self._mentions(test, ("mark.serial",))

    def _mentions(self, test: str, words: Sequence[str]) -> bool:
        path = (self.cwd or Path.cwd()) / test.split("::", 1)[0]
        try:
            text = path.read_text()
        except OSError:
            return True  # a folder or an unreadable file: assume it does
        return any(w in text for w in words)

    def _session(self, tests: Sequence[str], timeout: float, out_dir: Path, *,
                 serial: bool, exclude: Sequence[str] = ()) -> SuiteRun:
        part = "serial" if serial else "parallel"
        log, junit = out_dir / f"pytest-{part}.log", out_dir / f"junit-{part}.xml"
        t0 = time.monotonic()
        with log.open("wb") as fh:
            cmd = self.command(tests, out_dir, serial=serial, exclude=exclude)
            proc = subprocess.Popen(cmd, cwd=self.cwd,
                                    stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    # these sessions must not prune anyone's runs
                                    env={**os.environ, "E2E_KEEP_RUNS": "0"})
            try:
                rc = proc.wait(timeout=timeout)
            except BaseException as exc:
                # its own session: an interrupt of this run does not reach it otherwise
                _stop_group(proc)
                if not isinstance(exc, subprocess.TimeoutExpired):
                    raise
                return SuiteRun("timed_out", time.monotonic() - t0,
                               message=f"selected tests still running after the deadline "
                                       f"(log: {log})")
        seconds = time.monotonic() - t0
        got = parse_junit(junit)
        if got is not None:
            # the tests' share of the wall time: with xdist they ran side by side
            workers = int(cmd[cmd.index("-n") + 1]) if "-n" in cmd else 1
            got = dataclasses.replace(got, test_seconds=round(got.test_seconds / workers, 1))
        if rc in (0, 5):  # 5: none of the selected tests is in this part
            return SuiteRun("passed", seconds, tests_run=got.tests_run if got else 0,
                            test_seconds=got.test_seconds if got else 0.0)
        # 1: tests failed; 2: xdist's -x stop reports an interruption (with the failure in it)
        if rc in (1, 2) and got is not None and got.test:
            return dataclasses.replace(got, seconds=seconds)
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:])
        return SuiteRun("error", seconds, message=f"pytest exit {rc}: {tail} (log: {log})")


def _single(tests: Sequence[str]) -> bool:
    """One test, named by its node id (a file or folder may hold many)."""
    return len(tests) == 1 and "::" in tests[0]


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def parse_junit(path: Path) -> SuiteRun | None:
    """The first failing test of a JUnit file, its failed phase and message; None when the
    file is missing (pytest never got as far as writing it)."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    cases = list(root.iter("testcase"))
    inside = round(sum(float(c.get("time") or 0.0) for c in cases), 1)
    for case in cases:
        for tag, when in (("failure", "call"), ("error", "setup/teardown")):
            bad = case.find(tag)
            if bad is None:
                continue
            test = _test_id(case)
            phase = when
            for prop in case.iter("property"):
                value = prop.get("value") or ""
                if (prop.get("name") or "").startswith("phase_") and ": failed" in value:
                    phase = f"{prop.get('name', '').replace('_', ' ')}: " \
                            + value.rsplit(": failed", 1)[0]
                    break
            message = (bad.get("message") or bad.text or "").strip().splitlines()
            text = f"{bad.get('message') or ''}\n{bad.text or ''}"
            return SuiteRun("failed", 0.0, test, phase, message[0][:300] if message else "",
                            len(cases), inside, bool(NO_ANSWER.search(text)))
    return SuiteRun("passed", 0.0, tests_run=len(cases), test_seconds=inside)


# A failure that says only that the platform did not answer (in time): the harness's
# ApiUnreachableError, httpx's transport errors and timeouts, anywhere in the failure's
# chain (a WaitTimeoutError is raised `from` its last exception).
NO_ANSWER = re.compile(r"\bApiUnreachableError\b|\bhttpx\.(?:ReadTimeout|ConnectTimeout|"
                       r"WriteTimeout|PoolTimeout|ConnectError|ReadError|RemoteProtocolError)\b")


def _test_id(case: ET.Element) -> str:
    cls, name = case.get("classname", ""), case.get("name", "")
    parts = cls.split(".")
    # classname is dotted module[.Class]: turn the module part back into a path.
    for i in range(len(parts), 0, -1):
        candidate = "/".join(parts[:i]) + ".py"
        if Path(candidate).exists():
            return "::".join([candidate, *parts[i:], name])
    return f"{cls}::{name}"
