"""Every TPP page at a 390 px phone's width (and on a desktop) without sideways scrolling: the page
is exactly as wide as the window. Each page is shown as its people see it, with enough on it to wrap
(dates, digests, group tables, a policy change's diff, an invitation), on the Warehouse-shaped host
under waitress; the desktop and phone screenshots (``pytest --screenshots``) are the owner's guide's
(``docs/_static/screenshots/pages/``). The audit log's page is checked where it is built."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.common.scenario import group, wheel
from tests.warehouse_host.models import Project, Role, User
from tpp_core import PersonId, Policy, Scope

from .chromium import DESKTOP, PHONE
from .warehouse import Host, serve

pytestmark = [pytest.mark.service, pytest.mark.browser]

ACME, PREFIX = Scope.project("acme"), Scope.prefix("acme-")


@dataclass(frozen=True)
class Pages:
    """The served host, and the ids of the requests its pages show."""

    host: Host
    decided: str
    pending: str
    change: str


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    """acme (owned by lead): policy v1 in force and v2 proposed; 1.0 approved, 2.0 waiting for lead;
    the acme- prefix's policy (root's), to which root invited lead, who has not answered yet."""
    for host in serve(tmp_path_factory.mktemp("phone")):
        registry = host.world.registry
        with Session(host.world.engine) as session, session.begin():  # lead owns acme in the host
            lead = session.scalars(select(User).where(User.username == "lead")).one()
            project = Project(name="acme", normalized_name="acme")
            session.add_all([project, Role(user=lead, project=project, role_name="Owner")])
        # Devices enrolled a day ago (past the service-level registry's cooldown), decisions now.
        registry.clock.set(datetime.now(UTC) - timedelta(days=1))
        registry.enrol("lead", "cora", "dave", "root")
        registry.set_policy(
            Policy(scope=ACME, version=1, groups=(group("owners", "lead"), group("maintainers", "cora", "dave")))
        )
        decided = registry.upload("acme", "1.0", wheel(), wheel("acme-1.0.tar.gz", 2, 48_213))
        pending = registry.upload("acme", "2.0", wheel("acme-2.0-py3-none-any.whl", 3), wheel("acme-2.0.tar.gz", 4))
        assert decided is not None
        assert pending is not None
        registry.approve(decided.id, "lead")
        registry.approve(decided.id, "cora")
        registry.approve(pending.id, "cora")
        proposed = (group("owners", "lead"), group("maintainers", "cora", "dave", "root", seats=2, no_uploader=True))
        change = registry.set_policy(Policy(scope=ACME, version=2, groups=proposed))
        assert change is not None
        registry.set_policy(Policy(scope=PREFIX, version=1, groups=(group("admins", "root"),)), by="root")
        registry.invitations.invite(PersonId("root"), PREFIX, PersonId("lead"), registry.now)
        registry.session.commit()
        yield Pages(host, decided.id, pending.id, change)


#: Each page: its screenshot's name, who looks at it, and its path below /tpp.
PAGES = {
    "home": ("lead", "/"),
    "devices": ("lead", "/devices"),
    "confirm": ("lead", "/confirm"),
    "policy": ("lead", "/policies/project/acme"),
    "policy-prefix": ("root", "/policies/prefix/acme-"),
    "policy-change": ("cora", "/requests/{change}"),
    "requests": ("lead", "/requests"),
    "approval": ("lead", "/requests/{pending}"),
    "decided": ("dave", "/requests/{decided}"),
    "history": ("lead", "/projects/acme"),
    "error": ("lead", "/requests/0123456789abcdef0123"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_fits_a_phone_and_a_desktop(pages: Pages, chromium: Browser, name: str) -> None:
    person, path = PAGES[name]
    for phone, viewport in ((False, DESKTOP), (True, PHONE)):
        browser = pages.host.person(chromium, person, phone=phone)
        page = browser.open(path.format(decided=pages.decided, pending=pages.pending, change=pages.change))
        expect(page.locator("main h1")).to_be_visible()
        verdict = page.locator("#policy-check")  # the policy editor draws itself and asks for a check
        if verdict.count():
            expect(verdict).to_have_class(re.compile(r"\b(ok|error)\b"))
        assert browser.fits(), f"{name} at {viewport['width']} px scrolls sideways"
        browser.screenshot(f"pages/{name}-{'phone' if phone else 'desktop'}")
        assert browser.page_errors == []
        browser.close()
