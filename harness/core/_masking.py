"""One way to keep secrets out of reports: ``mask_text`` for text, ``mask_data`` for JSON.

``mask_text`` replaces every exact secret it is given, then token-shaped fields: tokens in
URLs (``?token=``), ``Authorization`` and ``*-Token`` headers, JSON or repr fields named like
``*token*``/``password``/``secret``, and the password in ``scheme://user:password@host``.
``mask_data`` replaces the string value of every secret-named key at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(r"token|authorization|password|passwd|secret|api[_-]?key", re.I)
# Order matters: header and key=value forms before the generic quoted-field rule.
_TEXT_RULES: list[tuple[re.Pattern[str], str]] = [
    # ?token=..., &api_token=..., E2E_ADMIN_TOKEN=... (URLs, env dumps, log lines)
    (re.compile(r"(?i)(\b[\w.-]*(?:token|password|secret)=)[^&\s\"'#;,]+"), rf"\g<1>{MASK}"),
    # Authorization: Bearer xyz / "authorization": "Bearer xyz"
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)((?:bearer|basic|token)\s+)?"
                r"[^\s\"',}]+"), rf"\g<1>\g<2>{MASK}"),
    # X-Admin-Token: xyz / "x-admin-token": "xyz" (also any *-token header)
    (re.compile(r"(?i)([\w-]*-token[\"']?\s*:\s*[\"']?)[^\s\"',}]+"), rf"\g<1>{MASK}"),
    # "api_token": "xyz" in JSON, 'api_token': 'xyz' in a Python repr
    (re.compile(r"(?i)(\"[^\"\n]*(?:token|password|secret)[^\"\n]*\"\s*:\s*\")[^\"]*(\")"),
     rf"\g<1>{MASK}\g<2>"),
    (re.compile(r"(?i)('[^'\n]*(?:token|password|secret)[^'\n]*'\s*:\s*')[^']*(')"),
     rf"\g<1>{MASK}\g<2>"),
    # scheme://user:password@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(@)"), rf"\g<1>{MASK}\g<2>"),
]


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and every token-shaped field masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, repl in _TEXT_RULES:
        text = pattern.sub(repl, text)
    return text


def mask_data(data: Any) -> Any:
    """A copy of JSON-like ``data`` whose secret-named string fields are masked."""
    if isinstance(data, Mapping):
        return {k: (MASK if isinstance(v, str) and _SECRET_KEY.search(str(k)) else mask_data(v))
                for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [mask_data(v) for v in data]
    return data
