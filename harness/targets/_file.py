"""The target file of the ``url`` target: where a deployed environment answers.

```toml
name = "staging"                          # shown in the verdict
portal_url = "https://portal.staging.example"
orchestrator_url = "http://10.0.0.5:8000" # optional: only if reachable from here
admin_token_env = "STAGING_ADMIN_TOKEN"   # optional: the NAME of the variable, never the token

[datastores]                              # optional, each key on its own (glass-box checks)
postgres = "127.0.0.1:5433"               # host:port (user, password, db: the e2e defaults)
redis = "127.0.0.1:6380"
clickhouse = "127.0.0.1:9001"             # the native protocol's port
qdrant = "http://127.0.0.1:6334"

[simulator]                               # optional: the AWS simulator the platform uses
aws_url = "http://127.0.0.1:4567"
```

tomllib reports the line of a syntax error only; for a schema error (unknown key, wrong
type, bad URL) the key's line is found in the text, so every error says file, key and line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._exceptions import TargetFileError

DATASTORES = ("postgres", "redis", "clickhouse", "qdrant")
_TOP = {"name", "portal_url", "orchestrator_url", "admin_token_env", "datastores", "simulator"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class HostPort:
    host: str
    port: int


@dataclass(frozen=True)
class TargetFile:
    path: Path
    name: str
    portal_url: str
    orchestrator_url: str | None = None
    admin_token_env: str | None = None
    datastores: dict[str, HostPort] = field(default_factory=dict)
    qdrant_url: str | None = None
    aws_url: str | None = None


def key_line(text: str, key: str, table: str | None = None) -> int | None:
    """The 1-based line where ``key`` is set (inside ``[table]`` when given), else None."""
    current: str | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]", line)
        if header:
            current = header.group(1)
            if table is None and current == key:
                return n
            continue
        if current == table and re.match(rf"^{re.escape(key)}\s*=", line):
            return n
    return None


def load_target_file(path: Path) -> TargetFile:
    """Parse and check a target file; a problem is a TargetFileError naming key and line."""
    if not path.is_file():
        raise TargetFileError(path, "", None, "no such file; give the path of a target "
                              "file (targets/example-url.toml shows the format)")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib of Python < 3.14 has the line only in its message: "(at line 5, column 12)"
        found = re.search(r"at line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        raise TargetFileError(path, "", line, f"not valid TOML: {exc}") from exc

    def fail(key: str, problem: str, table: str | None = None) -> TargetFileError:
        name = f"{table}.{key}" if table else key
        return TargetFileError(path, name, key_line(text, key, table), problem)

    for key in data:
        if key not in _TOP:
            raise fail(key, f"unknown key; known: {', '.join(sorted(_TOP))}")

    def text_value(table: dict[str, Any], key: str, where: str | None,
                   required: bool = False) -> str | None:
        if key not in table:
            if required:
                raise TargetFileError(path, key, None, "required key is missing")
            return None
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string, got {value!r}", where)
        return value.strip()

    def url_value(table: dict[str, Any], key: str, where: str | None,
                  required: bool = False) -> str | None:
        value = text_value(table, key, where, required)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise fail(key, f"must be an http:// or https:// URL with a host, got {value!r}",
                       where)
        return value.rstrip("/")

    portal = url_value(data, "portal_url", None, required=True)
    assert portal is not None
    token_env = text_value(data, "admin_token_env", None)
    if token_env is not None and not _ENV_NAME.match(token_env):
        # Most likely the token itself was pasted here: say so without echoing it.
        raise fail("admin_token_env", "must be the NAME of an environment variable (letters, "
                   "digits, '_'), never the token itself")
    stores: dict[str, HostPort] = {}
    qdrant_url: str | None = None
    raw_stores = data.get("datastores", {})
    if not isinstance(raw_stores, dict):
        raise fail("datastores", "must be a table: [datastores]")
    for key in raw_stores:
        if key not in DATASTORES:
            raise fail(key, f"unknown datastore; known: {', '.join(DATASTORES)}", "datastores")
    for key in ("postgres", "redis", "clickhouse"):
        value = text_value(raw_stores, key, "datastores")
        if value is not None:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
                raise fail(key, f"must be host:port, got {value!r}", "datastores")
            stores[key] = HostPort(host, int(port))
    qdrant_url = url_value(raw_stores, "qdrant", "datastores")
    if qdrant_url is not None:
        parts = urlsplit(qdrant_url)
        stores["qdrant"] = HostPort(parts.hostname or "", parts.port or 80)
    raw_sim = data.get("simulator", {})
    if not isinstance(raw_sim, dict):
        raise fail("simulator", "must be a table: [simulator]")
    for key in raw_sim:
        if key != "aws_url":
            raise fail(key, "unknown key; known: aws_url", "simulator")
    return TargetFile(
        path=path,
        name=text_value(data, "name", None) or path.stem,
        portal_url=portal,
        orchestrator_url=url_value(data, "orchestrator_url", None),
        admin_token_env=token_env,
        datastores=stores,
        qdrant_url=qdrant_url,
        aws_url=url_value(raw_sim, "aws_url", "simulator"),
    )
