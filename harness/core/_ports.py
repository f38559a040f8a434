"""Find host-port conflicts before compose starts, and name what holds each port."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Iterable

import psutil

from ._engine import LOCAL_HOST, is_local_address
from ._exceptions import PortClaim, PortConflictError

CONNECT_PROBE_S = 0.5  # a remote engine's host answers slower than loopback


def port_is_free(port: int, host: str = LOCAL_HOST) -> bool:
    """True when nothing listens on host:port. On an address of this machine: we can bind
    it ourselves. On another machine's (a remote engine's host): nothing accepts there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As docker-proxy does: connections of a stack just removed linger in TIME_WAIT and
        # must not count as "in use"; a listening socket still makes bind() fail on Linux.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            if exc.errno != errno.EADDRNOTAVAIL:  # not ours: only a connection can tell
                raise
    # Docker's proxy may listen on 0.0.0.0 while 127.0.0.1 binds fine on some kernels.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(CONNECT_PROBE_S)
        return s.connect_ex((host, port)) != 0


def find_conflicts(
    wanted: Iterable[tuple[int, str]],
    *,
    host: str = LOCAL_HOST,
    is_free: Callable[[int], bool] | None = None,
    describe_holder: Callable[[int], str] | None = None,
) -> list[PortClaim]:
    """Return the (port, service) pairs whose port is taken on ``host``, with who holds it."""
    free = is_free or (lambda port: port_is_free(port, host))
    describe = describe_holder or (lambda port: describe_port_holder(port, host))
    return [PortClaim(port, service, describe(port), host)
            for port, service in wanted if not free(port)]


def check_ports(
    wanted: Iterable[tuple[int, str]],
    *,
    host: str = LOCAL_HOST,
    is_free: Callable[[int], bool] | None = None,
    describe_holder: Callable[[int], str] | None = None,
) -> None:
    """Raise PortConflictError naming every wanted port that is taken, and its holder."""
    conflicts = find_conflicts(wanted, host=host, is_free=is_free,
                               describe_holder=describe_holder)
    if conflicts:
        raise PortConflictError(conflicts)


def describe_port_holder(port: int, host: str = LOCAL_HOST) -> str:
    """Best-effort: 'process 1234 (cmdline)' for what listens on ``port``."""
    if host != LOCAL_HOST and not is_local_address(host):
        return f"a process on {host} (not a container of the engine; look there: ss -ltnp)"
    try:
        listeners = [c for c in psutil.net_connections(kind="tcp")
                     if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port]
    except psutil.AccessDenied:
        return _NOT_VISIBLE
    if not listeners:
        return "unknown process (not visible from here)"
    pid = next((c.pid for c in listeners if c.pid is not None), None)
    if pid is None:  # a socket of another user's process: its pid is not ours to see
        return _NOT_VISIBLE
    try:
        cmd = " ".join(psutil.Process(pid).cmdline()).strip()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        cmd = ""
    return f"process {pid} ({cmd[:120] or '?'})"


_NOT_VISIBLE = "a process this user cannot see (try as root: ss -ltnp)"
