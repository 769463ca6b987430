"""The Warehouse-shaped host served under waitress on loopback, for the browser tests::

for host in serve(tmp_path):          # the ``host`` fixture (conftest.py)
    lead = host.person(chromium, "lead")
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser
from webtest.http import StopableWSGIServer

from tests.common.devpi import free_port
from tests.warehouse.conftest import World, host_database, open_world

from .chromium import Person

__all__ = ["Host", "serve"]


@dataclass
class Host:
    """The host app served at ``origin`` (``http://localhost:PORT``, TPP's WebAuthn origin)."""

    world: World
    origin: str

    def person(self, chromium: Browser, name: str, *, phone: bool = False) -> Person:
        """``name``'s browser (a phone's, if ``phone``), signed in through the host's test sign-in."""
        person = Person(chromium, self.origin, "/tpp", name, phone=phone)
        signed = person.context.request.post(f"{self.origin}/login", form={"person": name}, max_redirects=0)
        assert signed.status == 303, signed.text()
        return person

    def simple(self) -> str:
        """The host's PEP 503 page of acme, as pip reads it."""
        return str(self.world.app.get("/simple/acme/").text)


def serve(tmp_path: Path) -> Iterator[Host]:
    """The host on a new SQLite database in ``tmp_path``, served until the generator closes."""
    port = free_port()
    origin = f"http://localhost:{port}"
    settings = {
        "files": str(tmp_path / "files"),
        "tpp.quarantine.url": str(tmp_path / "quarantine"),
        "tpp.webauthn.origin": origin,
    }
    database = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    host_database(database)
    for world in open_world(database, tmp_path, **settings):
        server = StopableWSGIServer.create(world.app.app, host="127.0.0.1", port=port)
        try:
            yield Host(world, origin)
        finally:
            server.shutdown()
