"""The layers stay apart: the shared app (``tpp_warehouse``) imports neither host; the Warehouse host
integration (``tpp_warehouse.warehouse``) and the devpi plugin (``tpp_devpi``) import each other
not at all, and the shared app only through its public surface: the names in a public module's
``__all__``."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED, WAREHOUSE, DEVPI = "tpp_warehouse", "tpp_warehouse.warehouse", "tpp_devpi"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str | None:
    """Which of the three layers ``module`` belongs to (None: outside them, e.g. the core)."""
    for name in (WAREHOUSE, DEVPI, SHARED):
        if module == name or module.startswith(name + "."):
            return name
    return None


def imports(source: str, package: str) -> Iterator[tuple[str, tuple[str, ...], int]]:
    """(module, names, line) of each import in ``source``, relative imports resolved from ``package``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            yield module, tuple(alias.name for alias in node.names), node.lineno


SOURCES = sorted(p for package in (SHARED, DEVPI) for p in (ROOT / package).rglob("*.py"))


def violations(source: str, module_of: str, package: str) -> Iterator[str]:
    """What ``source`` (the module ``module_of`` in ``package``) imports that its layer may not."""
    here = layer(module_of)
    for module, names, line in imports(source, package):
        there = layer(module)
        if there is None or there == here:
            continue
        where = f"{module_of}:{line} imports {module}"
        if here == SHARED:
            yield f"{where}: the shared app imports no host"
        elif there != SHARED:
            yield f"{where}: a host imports no other host"
        elif any(part.startswith("_") for part in module.split(".")):
            yield f"{where}: a private module of the shared app"
        else:
            public = set(getattr(importlib.import_module(module), "__all__", ()))
            for name in names:
                if name not in public and not _is_module(f"{module}.{name}"):
                    yield f"{where}.{name}: not in its __all__"


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_layer_imports_only_what_it_may(path: Path) -> None:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    assert list(violations(path.read_text(), module, package)) == []


def reasons(source: str, module: str) -> list[str]:
    return [found.split(": ", 1)[1] for found in violations(source, module, module.rpartition(".")[0])]


def test_the_rule_sees_each_kind_of_violation() -> None:
    """What would fail, so that no violation above means something."""
    reaching = (
        "from tpp_warehouse.views.errors import answer\n"
        "from tpp_warehouse.warehouse import capture\n"
        "from tpp_warehouse._private import thing\n"
        "from tpp_warehouse.views import errors\n"  # a public module: allowed
    )
    assert reasons(reaching, "tpp_devpi.probe") == [
        "not in its __all__",
        "a host imports no other host",
        "a private module of the shared app",
    ]
    assert (
        reasons("import tpp_devpi.gate\nfrom .warehouse import holds\n", "tpp_warehouse.probe")
        == ["the shared app imports no host"] * 2
    )
    assert reasons("from ..views.errors import answer\n", "tpp_warehouse.warehouse.probe") == ["not in its __all__"]
