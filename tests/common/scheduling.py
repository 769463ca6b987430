"""How pytest-xdist shares the tests out (``--dist loadgroup``), to how many workers, and in which order.

A module's tests on one backend form one group, so the module-scoped servers, apps and databases
are built once, on one worker. The slow groups (real servers, browsers, the type check) are sent
first: a worker that draws one late would finish long after the others.

``--numprocesses=auto`` starts one worker more than there are cores: much of a worker's time is
spent waiting for its subprocesses (devpi-server, pip, twine, Chromium) and the package index,
which another worker can use. On the project's 2-core machines, 3 workers took 280 s where 2 took
290 s and 4 took 300 s (each added worker also builds its own templates and shared servers).
"""

from __future__ import annotations

import os

import pytest

__all__ = ["SLOW_FIRST", "group_and_order", "workers"]

#: Test paths whose groups take longest, slowest first; everything else keeps its collection order.
SLOW_FIRST = (
    "tests/packaging/",  # each module is one group of minutes: pip installs into a fresh venv
    "tests/test_quality.py",
    "tests/browser/",
    "tests/devpi/",
    "tests/warehouse/test_journey.py",
    "tests/integration/",
    "tests/unit/core/",
)


def workers() -> int:
    """How many workers ``--numprocesses=auto`` starts: the cores this process may use, plus one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # not on macOS
    return cores + 1


def _group(item: pytest.Item) -> str:
    module = item.nodeid.split("::", 1)[0]
    callspec = getattr(item, "callspec", None)
    backend = None if callspec is None else callspec.params.get("backend")
    return module if backend is None else f"{module} on {backend}"  # never a "]": see test_scheduling.py


def _rank(item: pytest.Item) -> int:
    return next((rank for rank, path in enumerate(SLOW_FIRST) if item.nodeid.startswith(path)), len(SLOW_FIRST))


def group_and_order(items: list[pytest.Item]) -> None:
    """Put every test not in a group yet into its module's (and backend's) group; slow groups first."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(_group(item)))
    items.sort(key=_rank)  # stable: within a rank, pytest's order (which keeps a module's fixtures together)
