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

from tests.common.showcase import Showcase, showcase
from tests.warehouse_host.models import Project, Role, User

from .chromium import DESKTOP, PHONE
from .warehouse import Host, serve

pytestmark = [pytest.mark.service, pytest.mark.browser]


@dataclass(frozen=True)
class Pages:
    """The served host, and the ids of the requests its pages show."""

    host: Host
    shown: Showcase


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pages]:
    """The host with something on every page (:func:`showcase`); lead owns acme in the host."""
    for host in serve(tmp_path_factory.mktemp("phone")):
        with Session(host.world.engine) as session, session.begin():
            lead = session.scalars(select(User).where(User.username == "lead")).one()
            project = Project(name="acme", normalized_name="acme")
            session.add_all([project, Role(user=lead, project=project, role_name="Owner")])
        # Devices enrolled a day ago (past the service-level registry's cooldown), decisions now.
        host.world.registry.clock.set(datetime.now(UTC) - timedelta(days=1))
        yield Pages(host, showcase(host.world.registry))


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
        page = browser.open(path.format(**vars(pages.shown)))
        expect(page.locator("main h1")).to_be_visible()
        verdict = page.locator("#policy-check")  # the policy editor draws itself and asks for a check
        if verdict.count():
            expect(verdict).to_have_class(re.compile(r"\b(ok|error)\b"))
        assert browser.fits(), f"{name} at {viewport['width']} px scrolls sideways"
        browser.screenshot(f"pages/{name}-{'phone' if phone else 'desktop'}")
        assert browser.page_errors == []
        browser.close()
