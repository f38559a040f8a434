"""Which test killed each mutant in an earlier run: next time it runs first, alone, so a kill
costs one test instead of a race among the selected ones (PIT's history file, Stryker's
incremental mode). ``mutants/kill-history.json``, committed like .test_durations and
refreshed from a run's mutation.json by ``python -m harness mutate-history``
(`make mutation-history`)::

    {"mutants": {"<patch name>": {"killer": "<node id>", "patch": "<sha256 of the patch>"}}}

An entry only orders the tests; the verdict is still what the tests do to this mutant. It is
ignored when the patch changed since (its hash), and the selection ignores it when the test is
no longer defined.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._catalogue import Mutant
from ._exceptions import CatalogueError

HISTORY_FILE = "kill-history.json"


def patch_digest(mutant: Mutant) -> str:
    return hashlib.sha256(mutant.diff.encode()).hexdigest()


@dataclass(frozen=True)
class KillHistory:
    killers: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (test, digest)

    @classmethod
    def load(cls, path: Path) -> KillHistory:
        """An empty history when the file is missing (a catalogue never run)."""
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls()
        except (OSError, json.JSONDecodeError) as exc:
            raise CatalogueError(f"{path} is not a readable kill history ({exc}); remove it or "
                                 "refresh it with `make mutation-history`") from exc
        entries = data.get("mutants") if isinstance(data, dict) else None
        if not isinstance(entries, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("killer"), str)
                and isinstance(v.get("patch"), str) for v in entries.values()):
            raise CatalogueError(f"{path}: expected {{\"mutants\": {{name: {{\"killer\": node id, "
                                 "\"patch\": sha256}}}}}}; refresh it with `make mutation-history`")
        return cls({name: (v["killer"], v["patch"]) for name, v in entries.items()})

    def killer_of(self, mutant: Mutant) -> str | None:
        """The test that killed this very patch last time (None: never killed, or the patch
        has changed since)."""
        got = self.killers.get(mutant.name)
        if got is None or got[1] != patch_digest(mutant):
            return None
        return got[0]

    def updated(self, results: list[dict[str, Any]], mutants: dict[str, Mutant]) -> KillHistory:
        """This history with a run's results (mutation.json's ``results``) laid over it: a
        mutant killed by a test gets that test; one the run evaluated otherwise loses its
        entry (a survivor has no killer to try first). Patches no longer in the catalogue
        are dropped."""
        out = {n: v for n, v in self.killers.items() if n in mutants}
        for r in results:
            name = r.get("name")
            if not isinstance(name, str) or name not in mutants:
                continue
            killer = r.get("killer")
            if r.get("outcome") == "killed" and isinstance(killer, str) and "::" in killer:
                out[name] = (killer, patch_digest(mutants[name]))
            elif r.get("outcome") in ("survived", "killed"):
                out.pop(name, None)  # survived, or killed by the platform not starting
        return KillHistory(out)

    def write(self, path: Path) -> None:
        body = {"mutants": {n: {"killer": k, "patch": d}
                            for n, (k, d) in sorted(self.killers.items())}}
        path.write_text(json.dumps(body, indent=1) + "\n")
