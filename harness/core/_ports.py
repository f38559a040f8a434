"""Find host-port conflicts before compose starts, and name what holds each port."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections.abc import Callable, Iterable
from pathlib import Path

from ._exceptions import PortClaim, PortConflictError


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (we can bind it ourselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As docker-proxy does: connections of a stack just removed linger in TIME_WAIT and
        # must not count as "in use"; a listening socket still makes bind() fail on Linux.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    # Docker's proxy may listen on 0.0.0.0 while 127.0.0.1 binds fine on some kernels.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) != 0


def find_conflicts(
    wanted: Iterable[tuple[int, str]],
    *,
    is_free: Callable[[int], bool] = port_is_free,
    describe_holder: Callable[[int], str] | None = None,
) -> list[PortClaim]:
    """Return the (port, service) pairs whose port is taken, with who holds it."""
    describe = describe_holder or describe_port_holder
    return [PortClaim(port, service, describe(port))
            for port, service in wanted if not is_free(port)]


def check_ports(wanted: Iterable[tuple[int, str]], **kwargs: object) -> None:
    conflicts = find_conflicts(wanted, **kwargs)  # type: ignore[arg-type]
    if conflicts:
        raise PortConflictError(conflicts)


def describe_port_holder(port: int) -> str:
    """Best-effort: 'process 1234 (cmdline)' from /proc, else 'unknown process'."""
    inodes = _listening_inodes(port)
    if not inodes:
        return "unknown process (not visible from here)"
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (pid_dir / "fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:[") and target[8:-1] in inodes:
                        cmd = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                            errors="replace").strip()
                        return f"process {pid_dir.name} ({cmd[:120] or '?'})"
    return "a process this user cannot see (try as root: ss -ltnp)"


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state on ``port``, from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                local, state, inode = parts[1], parts[3], parts[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    found.add(inode)
    return found
