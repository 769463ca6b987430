"""Where coverage is measured: only while the tests that measure ``tpp_core`` run.

``tpp_core``'s branch coverage must stay at 100 % (``[coverage:report]`` in setup.cfg), and its own
tests reach that: ``tests/unit/core/``, the doctests in its docstrings and those in ``docs/``.
Every other test runs ``tpp_core`` too, but under pytest-cov's tracer all of their Python (Pyramid,
SQLAlchemy, WebOb) ran about half again as slowly, to measure nothing more. So the tracer is paused
for each of them, from its setup to its teardown; ``--no-cov`` still turns coverage off altogether.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

__all__ = ["MEASURED", "pytest_runtest_protocol"]

#: Node id prefixes of the tests that measure ``tpp_core``.
MEASURED = ("tests/unit/core/", "tpp_core/", "docs/")


def _controller(config: pytest.Config) -> Any:
    """pytest-cov's controller in this process (its pause and resume serve its ``no_cover`` marker),
    or None when coverage is off."""
    plugin = config.pluginmanager.getplugin("_cov")
    return None if plugin is None else plugin.cov_controller


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    controller = _controller(item.config)
    if controller is None or item.nodeid.startswith(MEASURED):
        yield
        return
    controller.pause()
    try:
        yield
    finally:
        controller.resume()
