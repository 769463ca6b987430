"""Every page once, as the person it is meant for sees it, with something on it: each view that
answers GET, the error page and every static file. The pages' behaviour is tested in the other
modules; this one is what the packaging venv runs against the installed wheel (tests/packaging), so
that a template, a macro or a static file missing from the package, or read from the tree, fails
there, in seconds."""

from __future__ import annotations

import base64
from importlib.resources import files
from typing import Any

import pytest
from webtest import TestApp

from tests.common.registry import Registry
from tests.common.showcase import Showcase, showcase
from tests.functional.conftest import login
from tpp_warehouse.routes import ROUTES


@pytest.fixture
def ids(registry: Registry) -> Showcase:
    return showcase(registry)


#: Each page (route name, who, path below /tpp): its <h1>, and an element only it or its macros write.
PAGES = [
    ("tpp.home", "lead", "/", "Trustable publishing", "#home-waiting"),
    ("tpp.devices", "lead", "/devices", "Your devices", "#devices"),
    ("tpp.confirm", "lead", "/confirm", "Confirm with your device", "#confirm-device"),
    ("tpp.policy", "lead", "/policies/project/acme", "Policy of project acme", "#policy-builder"),
    ("tpp.policy", "root", "/policies/prefix/acme-", "Policy of projects starting with acme-", "#policy-builder"),
    ("tpp.requests", "lead", "/requests", "Waiting for you", "#invitations"),
    ("tpp.request", "lead", "/requests/{pending}", "acme 2.0", "#files"),
    ("tpp.request", "dave", "/requests/{decided}", "acme 1.0", "#outcome"),
    ("tpp.request", "cora", "/requests/{change}", "Policy change of acme", "#policy-diff"),
    ("tpp.history", "lead", "/projects/acme", "Releases of acme", "#history tr"),
    ("tpp.audit", "lead", "/audit", "Audit log", "#audit tr"),
]
#: How CI authenticates to the test host: its token ``ci-secret`` (``__token__`` as the user name).
CI_TOKEN = {"Authorization": "Basic " + base64.b64encode(b"__token__:ci-secret").decode()}
#: The views that answer GET with JSON or JavaScript: route name, path, what the answer holds.
OTHERS = [
    ("tpp.request.status", "/requests/{decided}/status.json", "approved"),
    ("tpp.release.status", "/releases/acme/2.0/status.json", "/tpp/requests/{pending}/status.json"),
    ("tpp.service_worker", "/sw.js", "addEventListener"),
]


def test_every_view_that_answers_get_is_here(module_app: Any) -> None:
    answering = {
        view["route_name"]
        for view in (item["introspectable"] for item in module_app.registry.introspector.get_category("views"))
        if view["route_name"] in ROUTES and "GET" in (view["request_methods"] or ("GET",))
    }
    assert answering == {route for route, *_ in PAGES} | {route for route, *_ in OTHERS}


@pytest.mark.parametrize(("route", "person", "path", "heading", "mark"), PAGES, ids=[p[2] for p in PAGES])
def test_the_page_renders(
    app: TestApp, registry: Registry, ids: Showcase, route: str, person: str, path: str, heading: str, mark: str
) -> None:
    login(app, person, registry)  # confirmed with the person's device: the pages show their forms
    page = app.get("/tpp" + path.format(**vars(ids)))
    assert page.content_type == "text/html"
    assert page.html.find("h1").text.strip() == heading
    assert page.html.select_one(mark) is not None, f"no {mark} on {path}:\n{page.text}"
    for sheet in page.html.select('link[rel="stylesheet"]'):
        assert app.get(sheet["href"]).status_code == 200


@pytest.mark.parametrize(("route", "path", "holds"), OTHERS, ids=[o[1] for o in OTHERS])
def test_the_other_answers(app: TestApp, ids: Showcase, route: str, path: str, holds: str) -> None:
    login(app, "lead")
    answer = app.get("/tpp" + path.format(**vars(ids)), headers=CI_TOKEN)
    assert holds.format(**vars(ids)) in answer.text, answer.text


def test_the_error_page_renders(app: TestApp) -> None:
    login(app, "lead")
    page = app.get("/tpp/requests/0123456789abcdef0123", status=404)
    assert page.html.find("h1").text.strip() == "Not found", page.text


def test_every_static_file_is_served_as_packaged(app: TestApp) -> None:
    static = files("tpp_warehouse") / "static"
    names = [entry.name for entry in static.iterdir() if entry.is_file()]
    assert "tpp.css" in names
    for name in names:
        assert app.get(f"/tpp/static/{name}").body == (static / name).read_bytes(), name
