"""TPP's home page at its prefix: who is signed in, what waits for them, their devices, the
projects whose policies name them (with each waiting release and its index) and the uploads that
wait for a policy; every other page's header links to it."""

from __future__ import annotations

import base64
from datetime import timedelta

from webtest import TestApp, TestResponse

from tests.common.registry import Registry
from tests.common.scenario import brief_policy, group, wheel
from tests.common.webapp import WebHost
from tests.functional.conftest import login
from tests.functional.test_devices_pages import SESSION_REQUIRED
from tpp_core import PersonId, Policy, Scope


def test_it_says_who_is_signed_in_and_counts_what_waits(app: TestApp, registry: Registry) -> None:
    registry.enrol("lead", "cora", "dave")
    registry.set_policy(brief_policy())
    registry.upload("acme", "1.0", wheel())
    registry.tick(timedelta(minutes=1))
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
    assert rows(page, "projects") == [["acme", "version 1", "2.0 1.0"]]
    assert page.html.select_one("#projects a")["href"] == "/tpp/projects/acme"
    assert not page.html.select("form[action$='/logout']")  # this host signs out on its own pages
    assert page.html.select_one("#waiting-for-policy") is None  # nothing of cora's waits for one


def rows(page: TestResponse, table_id: str) -> list[list[str]]:
    """The text of each cell of the table's rows."""
    return [
        [td.get_text(" ", strip=True) for td in tr.select("td")] for tr in page.html.select(f"#{table_id} tbody tr")
    ]


def test_each_waiting_release_links_to_its_request_and_names_its_index(app: TestApp, registry: Registry) -> None:
    registry.enrol("lead", "cora", "dave")
    registry.set_policy(brief_policy())
    first = registry.upload("acme", "1.0", wheel(), index="lead/dev")
    registry.tick(timedelta(minutes=1))
    second = registry.upload("acme", "2.0", wheel("acme-2.0-py3-none-any.whl", 2))
    decided = registry.upload("acme", "0.9", wheel("acme-0.9-py3-none-any.whl", 3), index="lead/dev")
    assert first is not None
    assert second is not None
    assert decided is not None
    registry.reject(decided.id, "cora")
    registry.session.commit()
    login(app, "lead")
    page = app.get("/tpp/", status=200)
    assert rows(page, "projects") == [["acme", "version 1", "2.0 1.0 to lead/dev"]]
    links = [a["href"] for a in page.html.select("#projects ul.releases a")]
    assert links == [f"/tpp/requests/{second.id}", f"/tpp/requests/{first.id}"]


def test_releases_waiting_for_a_policy_are_listed_for_their_uploader_with_where_to_set_one(
    app: TestApp, registry: Registry, host: WebHost
) -> None:
    # No owner and no policy: no default policy, so these wait (the status JSON says "no-policy").
    host.uploads[("orphan", "1.0")] = [
        (wheel("orphan-1.0.tar.gz"), PersonId("ci")),
        (wheel("o.whl", 2), PersonId("ci")),
    ]
    host.uploads[("orphan", "0.1")] = [(wheel("orphan-0.1.tar.gz", 3), PersonId("ann"))]  # someone else's
    host.uploads[("covered", "1.0")] = [(wheel("covered-1.0.tar.gz", 4), PersonId("ci"))]  # a prefix governs it
    host.uploads[("acme", "1.0")] = [(wheel(), PersonId("ci"))]  # owned: its request is opening
    registry.enrol("root")
    registry.set_policy(Policy(scope=Scope.prefix("cov"), version=1, groups=(group("g", "root"),)), by="root")
    registry.session.commit()
    login(app, "ci")
    page = app.get("/tpp/", status=200)
    section = page.html.select_one("#waiting-for-policy")
    assert section is not None
    assert rows(page, "unpolicied") == [["orphan 1.0", "2", "Set the policy of orphan"]]
    assert section.select_one("a")["href"] == "/tpp/policies/project/orphan"
    login(app, "lead")  # owns acme, uploaded none of these
    assert app.get("/tpp/", status=200).html.select_one("#waiting-for-policy") is None
    # Once someone sets its policy, it no longer waits (its request opens).
    registry.set_policy(Policy(scope=Scope.project("orphan"), version=1, groups=(group("g", "root"),)), by="root")
    registry.session.commit()
    login(app, "ci")
    assert app.get("/tpp/", status=200).html.select_one("#waiting-for-policy") is None


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
