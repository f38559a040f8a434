"""Which source files a service runs: the transitive imports, inside the package, of the
module its command starts (``python -m optiinfra.agents.cost``). A patch restarts only the
services that import a file it changes."""

from __future__ import annotations

import ast
from pathlib import Path


def _module_file(root: Path, module: str) -> Path | None:
    base = root / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports_of(root: Path, path: Path, module: str) -> set[str]:
    """Dotted names ``path`` imports (relative imports resolved), package-internal or not."""
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            out.add(target)
            # `from pkg import mod` may name a submodule
            out.update(f"{target}.{alias.name}" for alias in node.names)
    return out


def files_of(root: Path, entry: str) -> set[str]:
    """Files (relative to ``root``) that ``python -m <entry>`` loads from ``root``: the
    entry's ``__main__`` when a package, every parent package's ``__init__``, and what they
    import, transitively."""
    top = entry.split(".")[0]
    todo = [entry, f"{entry}.__main__"]
    seen: set[str] = set()
    files: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen or module.split(".")[0] != top:
            continue
        seen.add(module)
        path = _module_file(root, module)
        if path is None:
            continue
        files.add(path.relative_to(root).as_posix())
        parts = module.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        todo.extend(_imports_of(root, path, module))
    return files
