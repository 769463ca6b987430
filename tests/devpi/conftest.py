"""End-to-end tests against a real devpi-server with the plugin, real twine and real pip (journey J1).

One server per module: the tests of a module share its users, index and devices, and each uses its
own project or version. Without devpi-server a developer's run skips them; with ``CI`` set it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.common.devpi import Browser, DevpiServer
from tests.common.services import require
from tpp_devpi.serve import executable


@pytest.fixture(scope="module")
def server_options() -> tuple[str, ...]:
    """More devpi-server options; a module overrides this fixture to get a server of its own kind."""
    return ()


def running(root: Path, options: tuple[str, ...], *, offline: bool = True) -> Iterator[DevpiServer]:
    """A started server for a fixture to yield, stopped afterwards; ``offline=False`` for a module
    whose mirror indexes fetch from a loopback index (it overrides ``server`` with it)."""
    require("devpi-server", lambda: executable("devpi-server"))
    live = DevpiServer(root, *options, offline=offline).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, server_options: tuple[str, ...]) -> Iterator[DevpiServer]:
    yield from running(tmp_path_factory.mktemp("devpi"), server_options)


@pytest.fixture(scope="module")
def people(server: DevpiServer) -> dict[str, Browser]:
    """alice (owner of the tpp index alice/rel), bob, cora and dave: signed in, one device each."""
    browsers = {}
    for name in ("alice", "bob", "cora", "dave"):
        server.create_user(name)
        browsers[name] = Browser(server.url, name).sign_in()
        browsers[name].enrol()
    answer = server.create_index("alice", "rel")
    assert answer.status_code == 200, answer.text
    return browsers


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    return tmp_path
