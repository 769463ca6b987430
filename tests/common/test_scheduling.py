"""The xdist groups reach xdist's scheduler (``tests/common/scheduling.py``)."""

from __future__ import annotations

import pytest


def test_a_modules_tests_reach_xdist_as_their_group(request: pytest.FixtureRequest) -> None:
    """xdist's scheduler groups tests by the node id's ``@group`` suffix alone, which its own hook adds
    from the xdist_group marks: without it (our hook ran after xdist's until 2026-12), every test was
    scheduled alone and each worker built every module's app, devpi-server and venv again."""
    if getattr(request.config.option, "loadgroup", False):  # the README's command: workers, --dist=loadgroup
        assert request.node.nodeid.endswith("@tests/common/test_scheduling.py"), request.node.nodeid
    else:  # one process (-n0): nothing to schedule, and no suffix
        assert "@" not in request.node.nodeid
