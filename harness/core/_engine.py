"""Which host the Docker engine publishes ports on, as this machine reaches it.

The docker CLI (and so python-on-whales, compose and every check of the harness) talks to the
engine that ``DOCKER_HOST`` names, else the current docker context (``DOCKER_CONTEXT``, else
``currentContext`` in the CLI's config.json), else the local socket. A stack on a remote
engine publishes its ports on that engine's machine: the clients must use its host, not
127.0.0.1. ``E2E_HOST`` overrides the derivation (e.g. a NAT in between).
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import json
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ._exceptions import ConfigError

LOCAL_HOST = "127.0.0.1"
_LOCAL_SCHEMES = ("unix", "npipe", "fd")
_REMOTE_SCHEMES = ("tcp", "ssh", "http", "https")


def engine_url(environ: Mapping[str, str] | None = None) -> str | None:
    """The engine's address as the docker CLI would pick it; None for the local default."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    config_dir = Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME") or "~").expanduser()
                      / ".docker")
    context = env.get("DOCKER_CONTEXT") or _current_context(config_dir)
    if not context or context == "default":
        return None
    return _context_host(config_dir, context)


def host_of(url: str | None) -> str:
    """The host part of an engine address: 127.0.0.1 for a local socket."""
    if not url:
        return LOCAL_HOST
    parts = urlsplit(url)
    if parts.scheme in _LOCAL_SCHEMES:
        return LOCAL_HOST
    if parts.scheme in _REMOTE_SCHEMES and parts.hostname:
        return parts.hostname
    raise ConfigError(f"cannot tell the engine's host from {url!r} (DOCKER_HOST or the docker "
                      f"context): expected unix://, tcp://HOST:PORT or ssh://[USER@]HOST; set "
                      f"E2E_HOST to the host its published ports answer on.")


def engine_host(environ: Mapping[str, str] | None = None) -> str:
    """Where the engine's published ports answer: E2E_HOST, else the engine's host."""
    env = os.environ if environ is None else environ
    return env.get("E2E_HOST") or host_of(engine_url(env))


def publish_address(host: str) -> str:
    """The address compose binds published ports to on the engine's machine: the engine's
    own address (loopback stays loopback; a remote engine publishes on the address this
    machine reaches it by, not on every interface)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.gethostbyname(host)
    except OSError as exc:
        raise ConfigError(f"cannot resolve the engine's host {host!r}: {exc}; set "
                          f"E2E_PUBLISH_HOST to the address the engine should publish on.") from exc


def is_local_address(host: str) -> bool:
    """True when ``host`` is an address of this machine (a socket can bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return False
            raise
    return True


def _current_context(config_dir: Path) -> str | None:
    try:
        data = json.loads((config_dir / "config.json").read_text())
    except (OSError, ValueError):
        return None
    current = data.get("currentContext") if isinstance(data, dict) else None
    return current if isinstance(current, str) else None


def _context_host(config_dir: Path, name: str) -> str:
    # The CLI keeps a context's endpoints under contexts/meta/<sha256 of its name>/meta.json.
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest() / \
        "meta.json"
    try:
        data = json.loads(meta.read_text())
        host = data["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"docker context {name!r} has no readable endpoint ({meta}: {exc}); "
                          f"`docker context ls` lists the contexts; set DOCKER_HOST or "
                          f"E2E_HOST instead.") from exc
    if not isinstance(host, str):
        raise ConfigError(f"docker context {name!r}: its docker endpoint is not a string")
    return host
