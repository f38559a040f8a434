"""``waivers.toml``: a known failure waived for a while, with an owner, a reason and an expiry.

```toml
[[waiver]]
test = "scenarios/test_rollback_scenario.py::test_customer_rollback*"  # node id or fnmatch
owner = "jane@example.com"
reason = "OPT-123: rollback races the 50% step on slow disks; fix in 1.4.1"
expires = 2026-12-31                                                    # a TOML date
```
A waiver past its expiry counts as a failure; one that matches no failing test is reported.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

from harness.core import ConfigError

_KEYS = ("test", "owner", "reason", "expires")


@dataclass(frozen=True)
class Waiver:
    test: str
    owner: str
    reason: str
    expires: date
    line: int  # of its [[waiver]] header, for the report

    def matches(self, nodeid: str) -> bool:
        return nodeid == self.test or fnmatchcase(nodeid, self.test)

    def expired(self, today: date) -> bool:
        return today > self.expires

    def to_json(self) -> dict[str, str | int]:
        return {"test": self.test, "owner": self.owner, "reason": self.reason,
                "expires": self.expires.isoformat(), "line": self.line}


class WaiverFileError(ConfigError):
    pass


def load_waivers(path: Path) -> list[Waiver]:
    """The waivers of ``path`` (none when it does not exist); a bad one names its line."""
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WaiverFileError(f"{path}: not valid TOML: {exc}") from exc
    headers = [n for n, line in enumerate(text.splitlines(), start=1)
               if re.match(r"^\s*\[\[\s*waiver\s*\]\]", line)]
    unknown = sorted(set(data) - {"waiver"})
    if unknown:
        raise WaiverFileError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; each "
                              f"waiver is a [[waiver]] table with {', '.join(_KEYS)}")
    out = []
    for i, raw in enumerate(data.get("waiver", [])):
        line = headers[i] if i < len(headers) else 0
        where = f"{path}:{line}: waiver {i + 1}"
        missing = [k for k in _KEYS if k not in raw]
        extra = sorted(set(raw) - set(_KEYS))
        if missing or extra:
            raise WaiverFileError(f"{where}: " + "; ".join(
                ([f"missing {', '.join(missing)}"] if missing else [])
                + ([f"unknown {', '.join(extra)}"] if extra else []))
                + f" (a waiver has {', '.join(_KEYS)})")
        for k in ("test", "owner", "reason"):
            if not isinstance(raw[k], str) or not raw[k].strip():
                raise WaiverFileError(f"{where}: {k} must be a non-empty string")
        if not isinstance(raw["expires"], date):
            raise WaiverFileError(f"{where}: expires must be a TOML date such as 2026-12-31 "
                                  f"(no quotes), got {raw['expires']!r}")
        out.append(Waiver(raw["test"].strip(), raw["owner"].strip(), raw["reason"].strip(),
                          raw["expires"], line))
    return out
