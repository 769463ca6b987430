"""End-to-end tests against a real devpi-server with the plugin, real twine and real pip (journey J1).

The modules that need nothing special share one server per test run (per xdist worker, where they
form one group): its users, index and devices, each test with its own project or version. A module
that overrides ``server`` or ``server_options`` (a server of another kind) or ``fresh_server`` (it
stops, kills or restarts the server, or reads all of its data) gets a server of its own. Without devpi-server a
developer's run skips them; with ``CI`` set it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.common.devpi import Browser, DevpiServer
from tests.common.services import require
from tpp_devpi.serve import executable

#: The xdist group of the modules that share the default server.
SHARED = "tests/devpi: the shared server"


def running(
    root: Path, options: tuple[str, ...], *, offline: bool = True, primary: DevpiServer | None = None
) -> Iterator[DevpiServer]:
    """A started server for a fixture to yield, stopped afterwards; ``offline=False`` for a module
    whose mirror indexes fetch from a loopback index (it overrides ``server`` with it); ``primary``
    makes it a replica of that server (started with ``--role primary``)."""
    require("devpi-server", lambda: executable("devpi-server"))
    live = DevpiServer(root, *options, offline=offline, primary=primary).start()
    try:
        yield live
    finally:
        live.stop()


def _sign_up(server: DevpiServer) -> dict[str, Browser]:
    browsers = {}
    for name in ("alice", "bob", "cora", "dave"):
        server.create_user(name)
        browsers[name] = Browser(server.url, name).sign_in()
        browsers[name].enrol()
    answer = server.create_index("alice", "rel")
    assert answer.status_code == 200, answer.text
    return browsers


def _shares(module: object) -> bool:
    return not any(name in vars(module) for name in ("server", "server_options", "fresh_server"))


@pytest.hookimpl(tryfirst=True)  # before tests/conftest.py gives the rest one group per module (see there)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        module = getattr(item, "module", None)
        if here in item.path.parents and "server" in getattr(item, "fixturenames", ()) and _shares(module):
            item.add_marker(pytest.mark.xdist_group(SHARED))


@pytest.fixture(scope="module")
def server_options() -> tuple[str, ...]:
    """More devpi-server options; a module overrides this fixture to get a server of its own kind."""
    return ()


@pytest.fixture(scope="module")
def fresh_server() -> bool:
    """Whether the module needs a server of its own; it overrides this to return True."""
    return False


@pytest.fixture(scope="session")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevpiServer]:
    """The default server the modules without needs of their own share."""
    yield from running(tmp_path_factory.mktemp("devpi"), ())


@pytest.fixture(scope="session")
def shared_people(shared_server: DevpiServer) -> dict[str, Browser]:
    return _sign_up(shared_server)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server_options: tuple[str, ...],
    fresh_server: bool,
) -> Iterator[DevpiServer]:
    """The module's live server: the shared one, or its own (see the module docstring)."""
    if _shares(request.module):
        yield request.getfixturevalue("shared_server")
    else:
        yield from running(tmp_path_factory.mktemp("devpi"), server_options)


@pytest.fixture(scope="module")
def people(request: pytest.FixtureRequest, server: DevpiServer) -> dict[str, Browser]:
    """alice (owner of the tpp index alice/rel), bob, cora and dave: signed in, one device each."""
    if _shares(request.module):
        people: dict[str, Browser] = request.getfixturevalue("shared_people")
        return people
    return _sign_up(server)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    return tmp_path
