"""TPP's home page at its prefix: who is signed in, what waits for them, their devices and the
projects whose policies name them; every other page's header links to it."""

from __future__ import annotations

import base64

from webtest import TestApp

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, group, wheel
from tests.functional.conftest import login
from tests.functional.test_devices_pages import SESSION_REQUIRED
from tpp_core import Policy, Scope


def test_it_says_who_is_signed_in_and_counts_what_waits(app: TestApp, registry: Registry) -> None:
    registry.enrol("lead", "cora", "dave")
    registry.set_policy(brief_policy())
    registry.upload("acme", "1.0", wheel())
    registry.upload("acme", "2.0", wheel("acme-2.0-py3-none-any.whl", 2))
    registry.session.commit()
    login(app, "cora")
    page = app.get("/tpp/", status=200)
    assert "Signed in as <strong>cora</strong>" in page.text
    assert page.html.select_one("#home-waiting strong").text == "2"
    assert page.html.select_one("#home-waiting a")["href"] == "/tpp/requests"
    assert page.html.select_one("#home-devices strong").text == "1"
    assert page.html.select_one("#home-devices a")["href"] == "/tpp/devices"
    assert page.html.select_one("#home-audit a")["href"] == "/tpp/audit"
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in page.html.select("#projects tbody tr")]
    assert rows == [["acme", "version 1", "2"]]
    assert page.html.select_one("#projects a")["href"] == "/tpp/projects/acme"
    assert not page.html.select("form[action$='/logout']")  # this host signs out on its own pages


def test_a_prefix_policy_and_no_device_read_plainly(app: TestApp, registry: Registry) -> None:
    registry.enrol("root")
    registry.set_policy(Policy(scope=Scope.prefix("acme-"), version=1, groups=(group("g", "root"),)), by="root")
    registry.session.commit()
    login(app, "root")
    page = app.get("/tpp/", status=200)
    assert [td.get_text(" ", strip=True) for td in page.html.select("#projects td")] == [
        "projects starting with acme-",
        "version 1",
        "see each project",
    ]
    login(app, "newcomer")
    page = app.get("/tpp/", status=200)
    assert page.html.select_one("#home-devices").get_text(" ", strip=True) == "0 devices : enrol one to approve"
    assert "No policy names you yet" in page.text


def test_every_page_links_home(app: TestApp, registry: Registry) -> None:
    login(app, "lead")
    for path in ("/tpp/", "/tpp/requests", "/tpp/devices", "/tpp/audit"):
        assert app.get(path).html.select_one("header a.brand")["href"] == "/tpp/"


def test_it_needs_a_browser_session(app: TestApp) -> None:
    assert SESSION_REQUIRED in app.get("/tpp/", status=403).text
    token = {"Authorization": "Basic " + base64.b64encode(b"__token__:ci-secret").decode()}
    assert SESSION_REQUIRED in app.get("/tpp/", headers=token, status=403).text
