"""Where coverage is measured: only while the tests that measure ``tpp_core`` run.

``tpp_core``'s branch coverage must stay at 100 % (``[coverage:report]`` in setup.cfg), and its own
example tests reach that: ``tests/unit/core/``, the doctests in its docstrings and those in
``docs/``. Every other test runs ``tpp_core`` too, but under pytest-cov's tracer all of their
Python (Pyramid, SQLAlchemy, WebOb) ran about half again as slowly, to measure nothing more; so did
the hypothesis properties (marked ``property``), whose hundreds of examples each run lines an
example test already reaches. So the tracer is paused for each of them, from its setup to its
teardown; ``--no-cov`` still turns coverage off altogether.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Generator

import pytest

__all__ = ["MEASURED", "pytest_runtest_protocol"]

#: Node id prefixes of the tests that measure ``tpp_core`` (their properties excepted).
MEASURED = ("tests/unit/core/", "tpp_core/", "docs/")


def _measuring(config: pytest.Config) -> bool:
    """Whether pytest-cov measures this run (``--no-cov`` says not)."""
    plugin = config.pluginmanager.getplugin("_cov")
    return plugin is not None and plugin.cov_controller is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    if not _measuring(item.config) or (item.nodeid.startswith(MEASURED) and not item.get_closest_marker("property")):
        yield
        return
    # The tracer is taken off this thread, and off threads the test starts, then put back as it was.
    # pytest-cov's own pause (its no_cover marker) stops coverage from the thread that started it,
    # which on an xdist worker is not the one running the tests: their tracer stayed.
    tracer, threads_tracer = sys.gettrace(), threading.gettrace()
    sys.settrace(None)
    threading.settrace(None)
    try:
        yield
    finally:
        threading.settrace(threads_tracer)
        sys.settrace(tracer)
