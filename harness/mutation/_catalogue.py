"""The mutant catalogue: one unified diff per file in ``mutants/``, each a small realistic bug
in the platform (or a behaviour-neutral control), with a header saying what a customer would
notice.

A patch file starts with ``# key: value`` header lines, then the diff (``git apply`` skips
text before the first ``diff --git``)::

    # customer notices: a spot migration reports savings it never made
    # component: orchestrator
    # kind: mutant            (or: control)
    # why it may survive: ...  (optional: why no scenario can hold this promise yet)
    diff --git a/optiinfra/... b/optiinfra/...
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ._exceptions import CatalogueError

KINDS = ("mutant", "control")
_HEADER = re.compile(r"^#\s*([a-z][a-z ]*[a-z])\s*:\s*(.*?)\s*$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class ChangedLine:
    """One removed (``-``) or added (``+``) line of a patch, with its line number in the
    original (removed) or patched (added) file."""

    path: str
    sign: str
    line: int
    text: str
    # where it is in the original file: the removed line itself, or for an added line the
    # original line it is inserted before (what a coverage map of the original can tell)
    anchor: int = 0

    def render(self) -> str:
        return f"{self.path}:{self.line} {self.sign} {self.text}"


@dataclass(frozen=True)
class Mutant:
    name: str  # the patch file's stem: what the report calls it
    path: Path
    notices: str  # what a customer would notice
    component: str
    kind: str  # mutant | control
    diff: str
    changed: tuple[ChangedLine, ...] = field(default_factory=tuple)
    why_survive: str = ""  # the `# why it may survive:` header, shown under a survivor

    @property
    def files(self) -> tuple[str, ...]:
        """Files the patch touches, in order of appearance."""
        return tuple(dict.fromkeys(c.path for c in self.changed))

    @property
    def is_control(self) -> bool:
        return self.kind == "control"

    def original_lines(self, path: str) -> list[int]:
        """Lines of ``path`` (original numbering) the patch removes or sits next to: a
        removed line, and for an added line the original lines on both sides of it."""
        mine = [c for c in self.changed if c.path == path]
        removed = {c.line for c in mine if c.sign == "-"}
        out = set(removed)
        for c in mine:
            # an added line replacing a removed one is judged by that one
            if c.sign == "+" and c.anchor - 1 not in removed:
                out.update(n for n in (c.anchor - 1, c.anchor) if n > 0)
        return sorted(out)


def parse_patch(path: Path) -> Mutant:
    """Read one patch file; a missing header or an empty diff is a CatalogueError."""
    text = path.read_text()
    headers: dict[str, str] = {}
    body_at = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("diff --git ", "--- ")):
            body_at = i
            break
        m = _HEADER.match(line)
        if m:
            headers[m.group(1)] = m.group(2)
    where = f"{path}: "
    if body_at is None:
        raise CatalogueError(where + "no diff found (expected a `diff --git` line after the "
                             "header); make one with `git diff > mutants/<name>.patch`")
    for key in ("customer notices", "component", "kind"):
        if not headers.get(key):
            raise CatalogueError(where + f"header line `# {key}: ...` missing; every patch "
                                 "says what a customer would notice, its component and kind")
    kind = headers["kind"].lower()
    if kind not in KINDS:
        raise CatalogueError(where + f"kind {kind!r} is neither 'mutant' nor 'control'")
    changed = tuple(_changed_lines(lines[body_at:]))
    if not changed:
        raise CatalogueError(where + "the diff changes no line")
    return Mutant(name=path.stem, path=path, notices=headers["customer notices"],
                  component=headers["component"], kind=kind,
                  diff="\n".join(lines[body_at:]) + "\n", changed=changed,
                  why_survive=headers.get("why it may survive", ""))


def _changed_lines(diff: list[str]) -> list[ChangedLine]:
    out: list[ChangedLine] = []
    path, old, new = "", 0, 0
    for line in diff:
        if line.startswith("+++ "):
            target = line[4:].strip()
            path = target[2:] if target.startswith("b/") else target
            continue
        if line.startswith(("--- ", "diff --git ", "index ")):
            continue
        m = _HUNK.match(line)
        if m:
            old, new = int(m.group(1)), int(m.group(3))
            continue
        if not path or not line:
            continue
        sign, rest = line[0], line[1:]
        if sign == "-":
            out.append(ChangedLine(path, "-", old, rest, old))
            old += 1
        elif sign == "+":
            out.append(ChangedLine(path, "+", new, rest, old))
            new += 1
        elif sign == " ":
            old, new = old + 1, new + 1
    return out


def load_catalogue(folder: Path, only: list[str] | None = None) -> list[Mutant]:
    """Every ``*.patch`` in ``folder`` (sorted), or the ones named in ``only`` (a file path
    or a name); an unknown name is a CatalogueError that lists the known ones."""
    if only:
        picked = []
        for item in only:
            p = Path(item)
            if not p.is_file():
                p = folder / (item if item.endswith(".patch") else item + ".patch")
            if not p.is_file():
                known = ", ".join(sorted(q.stem for q in folder.glob("*.patch"))) or "none"
                raise CatalogueError(f"no patch {item!r} (looked for {p}); known: {known}")
            picked.append(parse_patch(p))
        return picked
    if not folder.is_dir():
        raise CatalogueError(f"no catalogue folder {folder}; mutants live in mutants/*.patch")
    mutants = [parse_patch(p) for p in sorted(folder.glob("*.patch"))]
    if not mutants:
        raise CatalogueError(f"{folder} holds no *.patch file")
    return mutants
