"""tpp_core stays pure: importing it loads no I/O library, and its code imports only what it may."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import tpp_core

CORE = Path(tpp_core.__file__).parent
MODULES = sorted(f"tpp_core.{m.name}" for m in pkgutil.iter_modules([str(CORE)]))

# Loaded by importing the core, these would mean I/O (databases, web frameworks, networking, files
# over HTTP, processes, queues, cloud storage). Compared against a bare interpreter of the same kind,
# because this machine's site hooks pre-load a few stdlib modules into every interpreter.
FORBIDDEN = (
    "sqlalchemy",
    "pyramid",
    "webob",
    "http",
    "socket",
    "ssl",
    "urllib.request",
    "requests",
    "asyncio",
    "subprocess",
    "multiprocessing",
    "concurrent",
    "webauthn",
    "pywebpush",
    "rq",
    "redis",
    "boto3",
    "botocore",
    "devpi_server",
    "sqlite3",
)

# What the core's own code may import: pure standard-library modules and zope.interface for ports.
# No threading, time, os, random or secrets: the core neither waits, reads clocks nor makes entropy.
ALLOWED = {
    "__future__",
    "collections",
    "dataclasses",
    "datetime",
    "enum",
    "hashlib",
    "hmac",
    "itertools",
    "json",
    "re",
    "typing",
    "zope",
}


def loaded_modules(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout))


def test_every_core_module_is_checked() -> None:
    assert {"tpp_core.interfaces", "tpp_core.quorum", "tpp_core.request"} <= set(MODULES)


def test_importing_the_core_loads_no_io_library() -> None:
    baseline = loaded_modules("pass")
    added = loaded_modules("\n".join(f"import {m}" for m in MODULES)) - baseline
    assert "tpp_core.quorum" in added
    assert sorted(m for m in added if any(m == f or m.startswith(f"{f}.") for f in FORBIDDEN)) == []


def test_core_code_imports_only_pure_modules() -> None:
    imported: dict[str, set[str]] = {}
    for path in CORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                imported.setdefault(name.split(".")[0], set()).add(path.name)
    assert set(imported) <= ALLOWED, {k: v for k, v in imported.items() if k not in ALLOWED}


def test_core_never_reads_the_clock() -> None:
    for path in CORE.glob("*.py"):
        source = path.read_text()
        for call in ("datetime.now", "datetime.utcnow", "date.today", ".now(", "utcnow("):
            assert call not in source, f"{path.name} reads the clock via {call}"
