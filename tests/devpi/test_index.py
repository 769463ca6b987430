"""The ``tpp`` index type and its edges on a real devpi-server: creation rules, derived indexes,
the sign-in form, and credentials that must not reach TPP's pages (I1, I3, I10)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel
from tests.common.scenario import group
from tpp_core import Policy, Scope

pytestmark = pytest.mark.service


def test_a_tpp_index_must_not_be_volatile(server: DevpiServer, people: dict[str, Browser]) -> None:
    refused = server.api("PUT", "/bob/loose", {"type": "tpp"}, auth=("bob", PASSWORD))
    assert refused.status_code == 400
    assert "volatile=False" in refused.json()["message"]
    assert server.api("GET", "/bob/loose").status_code == 404  # nothing half-created
    assert server.create_index("bob", "strict").status_code == 200
    loosened = server.api("PATCH", "/bob/strict", ["volatile=True"], auth=("bob", PASSWORD))
    assert loosened.status_code == 400
    assert server.api("GET", "/bob/strict").json()["result"]["volatile"] is False


def test_derived_indexes_see_only_approved_files(server: DevpiServer, people: dict[str, Browser], dist: Path) -> None:
    server.set_policy(Policy(scope=Scope.project("base-pkg"), version=1, groups=(group("g", "alice"),)), by="alice")
    assert server.create_index("alice", "plain", type="stage", bases=["alice/rel"]).status_code == 200
    assert server.create_index("alice", "derived", bases=["alice/rel"]).status_code == 200
    pending, approved = wheel(dist, "base-pkg", "1.0"), wheel(dist, "base-pkg", "2.0")
    assert server.twine_upload("alice", "rel", approved).returncode == 0
    request = server.request_for("base-pkg", "2.0")
    assert people["alice"].decide(request.id, "approve").json()["state"] == "approved"
    assert server.twine_upload("alice", "rel", pending).returncode == 0
    server.request_for("base-pkg", "1.0")

    # A plain index does not inherit from a tpp index at all; a tpp index applies its base's records.
    plain = requests.get(f"{server.url}/alice/plain/+simple/base-pkg/", timeout=10).text
    assert pending.name not in plain
    assert approved.name not in plain
    derived = requests.get(f"{server.url}/alice/derived/+simple/base-pkg/", timeout=10).text
    assert approved.name in derived
    assert pending.name not in derived


def test_sign_in_checks_the_devpi_password(server: DevpiServer, people: dict[str, Browser]) -> None:
    browser = Browser(server.url, "bob")
    token = browser.csrf()
    wrong = browser.http.post(
        f"{server.url}/+tpp/login", data={"username": "bob", "password": "nope", "csrf_token": token}, timeout=10
    )
    assert wrong.status_code == 403
    assert "wrong user name or password" in wrong.text
    unknown = browser.http.post(
        f"{server.url}/+tpp/login", data={"username": "nobody", "password": "x", "csrf_token": token}, timeout=10
    )
    assert unknown.status_code == 403
    forged = requests.post(f"{server.url}/+tpp/login", data={"username": "bob", "password": PASSWORD}, timeout=10)
    assert forged.status_code == 400  # no CSRF token
    empty = browser.http.post(f"{server.url}/+tpp/login", data={"csrf_token": token}, timeout=10)
    assert empty.status_code == 400
    as_file = browser.http.post(
        f"{server.url}/+tpp/login",
        data={"password": PASSWORD, "csrf_token": token},
        files={"username": ("bob", b"bob")},
        timeout=10,
    )
    assert as_file.status_code == 400

    away = browser.http.post(
        f"{server.url}/+tpp/login",
        data={"username": "bob", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert away.status_code == 303
    # The password only signs in; a device completes it, then the browser goes to TPP's own page.
    assert away.headers["Location"].endswith("/+tpp/confirm?next=%2F%2Btpp%2Frequests")
    cookie = next(c for c in browser.http.cookies if c.name == "tpp_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert browser.get("/+tpp/devices").status_code == 200


@pytest.mark.parametrize("kind", ["basic auth", "X-Devpi-Auth"])
def test_devpi_credentials_reach_no_tpp_page(server: DevpiServer, people: dict[str, Browser], kind: str) -> None:
    headers = {"Accept": "application/json"}
    if kind == "basic auth":
        headers["Authorization"] = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    else:
        headers.update(server.token_header("alice"))
    for path in ("/+tpp/devices", "/+tpp/requests", "/+tpp/policies/project/hello"):
        page = requests.get(
            server.url + path, headers={**headers, "Accept": "text/html"}, allow_redirects=False, timeout=10
        )
        assert page.status_code == 303, path
        assert "/+tpp/login" in page.headers["Location"], path
    for path in ("/+tpp/devices/begin", "/+tpp/requests/0123456789abcdef0123/begin"):
        refused = requests.post(server.url + path, json={"verdict": "approve"}, headers=headers, timeout=10)
        assert refused.status_code in (400, 403), (path, refused.text)
    # ... while the status JSON accepts them (an unknown request: 404, not 403)
    status = requests.get(f"{server.url}/+tpp/requests/0123456789abcdef0123/status.json", headers=headers, timeout=10)
    assert status.status_code == 404, status.text


def test_pages_are_served_under_one_prefix(server: DevpiServer, people: dict[str, Browser]) -> None:
    page = people["alice"].get("/+tpp/devices")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert re.search(r'href="/\+tpp/static/tpp\.css', page.text)
    assert people["alice"].get("/+tpp/static/tpp.css").status_code == 200


def propose(browser: Browser, project: str, policy: Policy) -> requests.Response:
    """Save a policy through the policy page's form."""
    page = f"/+tpp/policies/project/{project}"
    form = {"policy": json.dumps(policy.to_dict()), "csrf_token": browser.csrf(page)}
    return browser.http.post(browser.url + page, data=form, allow_redirects=False, timeout=10)


def test_an_upload_claims_the_project_for_its_owner(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    path = wheel(dist, "claimed", "1.0")
    policy = Policy(scope=Scope.project("claimed"), version=1, groups=(group("g", "bob"),))
    # Nobody holds "claimed" yet: only root may set its policy.
    assert propose(people["bob"], "claimed", policy).status_code == 403
    assert server.twine_upload("alice", "rel", path).returncode == 0
    # The first upload gives the project its default policy (alice alone), and its request opens.
    request = server.request_for("claimed", "1.0", timeout=10)
    assert [(g.name, sorted(g.members)) for g in request.policy.groups] == [("(Default)", ["alice"])]
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 403

    # Another owner can neither upload the name into a tpp index of theirs nor set its policy.
    assert server.create_index("bob", "mine").status_code == 200
    stolen = server.twine_upload("bob", "mine", wheel(dist, "claimed", "9.0"))
    assert stolen.returncode != 0
    assert "403" in stolen.stdout + stolen.stderr
    change = Policy(scope=Scope.project("claimed"), version=2, groups=(group("g", "bob"),))
    assert propose(people["bob"], "claimed", change).status_code == 403

    assert people["alice"].decide(request.id, "approve").json()["state"] == "approved"
    assert requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 200
