"""Each package's public front: an explicit ``__all__``, sorted, every name importable."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import harness.core

PACKAGES = ["harness", "harness.core", "harness.domain", "harness.reporting"]


def isort_style(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else; A-Z in each."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_sorted_without_duplicates(package):
    names = importlib.import_module(package).__all__
    assert names == sorted(names, key=isort_style)
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_is_importable_and_public(package):
    module = importlib.import_module(package)
    namespace: dict[str, object] = {}
    exec(f"from {package} import *", namespace)  # what `import *` gives users
    assert set(module.__all__) <= set(namespace)
    for name in module.__all__:
        assert not name.startswith("_"), name
        assert getattr(module, name) is namespace[name]


def test_top_level_names_are_the_layers_own_objects():
    import harness
    import harness.core
    import harness.domain

    for name in harness.__all__:
        owners = [layer for layer in (harness.core, harness.domain) if name in layer.__all__]
        assert owners, f"harness.{name} is exported by neither harness.core nor harness.domain"
        assert getattr(harness, name) is getattr(owners[0], name), name


def imports_of(folder: Path) -> list[tuple[str, str]]:
    """(file, module) for every import statement of the .py files in ``folder``."""
    imported = []
    for source in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                imported += [(source.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported.append((source.name, "." * node.level + (node.module or "")))
    return imported


def test_core_never_imports_the_domain_reporting_or_the_platform():
    # The arrow points one way: domain uses core; core knows nothing of OptiInfra.
    imported = imports_of(Path(harness.core.__file__).parent)
    assert len(imported) > 10  # the walk saw the imports
    offending = [(f, m) for f, m in imported
                 if re.match(r"(harness\.(domain|reporting)|optiinfra|\.\.)", m)]
    assert offending == []


def test_the_domain_never_imports_the_reporting_package():
    imported = imports_of(Path(harness.core.__file__).parent.parent / "domain")
    assert len(imported) > 10
    assert [(f, m) for f, m in imported if m.startswith("harness.reporting")] == []


@pytest.mark.parametrize("layer", ["cli.py", "plugin.py", "reporting", "mutation", "targets"])
def test_no_private_module_is_imported_across_packages(layer):
    root = Path(harness.core.__file__).parent.parent
    path = root / layer
    imported = imports_of(path) if path.is_dir() else [
        (f, m) for f, m in imports_of(root) if f == layer]
    assert imported
    offending = [(f, m) for f, m in imported
                 if m.startswith("harness.") and any(p.startswith("_") for p in m.split("."))]
    assert offending == []
