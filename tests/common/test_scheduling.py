"""The xdist groups reach xdist's scheduler whole (``tests/common/scheduling.py``)."""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadGroupScheduling


def test_every_test_reaches_xdist_in_its_group(request: pytest.FixtureRequest) -> None:
    """xdist's scheduler reads a test's group from the node id's ``@group`` suffix, which its own hook
    adds from the xdist_group marks, and only where no "]" comes after the "@". Two ways this broke:
    our hook ran after xdist's (until 2026-12-06), and a group named after its backend as
    ``module[sqlite]`` was read as no group (until 2026-12-07). Either way each test was scheduled
    alone, and every worker built the database modules' apps again."""
    scheduler = LoadGroupScheduling.__new__(LoadGroupScheduling)  # _split_scope reads nothing the constructor sets
    loadgroup = getattr(request.config.option, "loadgroup", False)  # the README's command: workers, --dist=loadgroup
    for item in request.session.items:
        marker = item.get_closest_marker("xdist_group")
        assert marker is not None, item.nodeid
        group = marker.args[0]
        if loadgroup:
            assert item.nodeid.endswith(f"@{group}"), item.nodeid
        scheduled = item.nodeid if loadgroup else f"{item.nodeid}@{group}"  # -n0: what xdist would schedule
        assert scheduler._split_scope(scheduled) == group, f"{item.nodeid} is scheduled alone, not in {group!r}"
