"""Journey J3 on the Warehouse-shaped host, served under waitress on loopback, in real Chromium:
first devices enrolled in the browser, a release approved by two people in two browsers, another
rejected by one of them (I2, I4, I7). The policy is set through TPP's services; its editor is walked
on devpi (test_devpi.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from webtest.http import StopableWSGIServer

from tests.common.devpi import free_port
from tests.common.scenario import group
from tests.warehouse.conftest import World, open_world
from tests.warehouse.dists import wheel
from tpp_core import Policy, Scope

from .chromium import Person

pytestmark = [pytest.mark.service, pytest.mark.browser]


@dataclass
class Host:
    """The host app served at ``origin`` (``http://localhost:PORT``, TPP's WebAuthn origin)."""

    world: World
    origin: str

    def person(self, chromium: Browser, name: str) -> Person:
        """``name``'s browser, signed in through the host's test sign-in."""
        person = Person(chromium, self.origin, "/tpp", name)
        signed = person.context.request.post(f"{self.origin}/login", form={"person": name}, max_redirects=0)
        assert signed.status == 303, signed.text()
        return person

    def simple(self) -> str:
        """The host's PEP 503 page of acme, as pip reads it."""
        return str(self.world.app.get("/simple/acme/").text)


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    port = free_port()
    origin = f"http://localhost:{port}"
    settings = {
        "files": str(tmp_path / "files"),
        "tpp.quarantine.url": str(tmp_path / "quarantine"),
        "tpp.webauthn.origin": origin,
    }
    for world in open_world(f"sqlite:///{tmp_path / 'warehouse.sqlite'}", tmp_path, **settings):
        server = StopableWSGIServer.create(world.app.app, host="127.0.0.1", port=port)
        try:
            yield Host(world, origin)
        finally:
            server.shutdown()


def test_two_people_approve_in_their_browsers_and_one_rejects(host: Host, chromium: Browser) -> None:
    lead, cora = host.person(chromium, "lead"), host.person(chromium, "cora")
    for person in (lead, cora):
        expect(person.enrol("laptop").locator("#devices")).to_contain_text("first device")
    policy = Policy(scope=Scope.project("acme"), version=1, groups=(group("maintainers", "lead", "cora", seats=2),))
    host.world.registry.set_policy(policy, by="lead")
    host.world.registry.session.commit()

    request_id = host.world.request_of(host.world.upload(wheel("acme", "1.0")))
    page = lead.decide(request_id, "approve")
    expect(page.locator("#state")).to_have_text("verifying")
    assert "acme-1.0-py3-none-any.whl" not in host.simple()
    page = cora.decide(request_id, "approve")
    expect(page.locator("#state")).to_have_text("approved")
    expect(page.locator("#decisions")).to_contain_text("lead")
    assert "acme-1.0-py3-none-any.whl" in host.simple()

    request_id = host.world.request_of(host.world.upload(wheel("acme", "2.0")))
    page = cora.decide(request_id, "reject", reason="unexpected upload")
    expect(page.locator("#state")).to_have_text("rejected")
    assert "acme-2.0-py3-none-any.whl" not in host.simple()
    expect(lead.open(f"/requests/{request_id}").locator("#decide")).to_have_count(0)
    for person in (lead, cora):
        assert person.page_errors == []
        person.close()
