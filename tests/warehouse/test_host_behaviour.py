"""TPP against the parts of Warehouse's behaviour that once broke it (issue 12), each reproduced by
the Warehouse-shaped host: the late ``authentication_method``, the ``require_methods`` and
``uses_session`` derivers, the CSP tween that overwrites, journal entries written at upload (and read
through XML-RPC ``changelog_since_serial``), and cache purge keys fired by changes to the host's rows."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

import pytest
from pyramid.config import Configurator
from webtest import TestApp

from tests.warehouse.conftest import World
from tests.warehouse.dists import wheel
from tests.warehouse_host.derivers import session_view
from tpp_warehouse.csp import parse
from tpp_warehouse.warehouse import WarehouseHost
from tpp_warehouse.warehouse.derivers import host_view_options

WHEEL = wheel()


def changelog(world: World, since: int = 0) -> list[Any]:
    body = xmlrpc.client.dumps((since,), "changelog_since_serial")
    answer = world.app.post("/pypi", body, headers={"Content-Type": "text/xml"})
    (entries,), _ = xmlrpc.client.loads(answer.body)
    assert isinstance(entries, list)
    return entries


def test_the_session_person_is_read_after_the_identity_resolves(world: World) -> None:
    class Request:
        """Warehouse's order: authentication_method appears only while request.user resolves."""

        @property
        def user(self) -> Any:
            self.authentication_method = "session"
            return type("User", (), {"username": "lead"})()

    host = WarehouseHost.__new__(WarehouseHost)
    assert host.session_person(Request()) == "lead"
    world.app.post("/login", {"person": "lead"})
    assert "Devices" in world.app.get("/tpp/devices").text


def test_posts_and_sessions_pass_the_hosts_derivers(world: World) -> None:
    world.app.post("/login", {"person": "lead"})
    csrf = world.app.get("/tpp/devices").html.find("meta", {"name": "csrf-token"})["content"]
    begun = world.app.post_json("/tpp/devices/begin", {}, headers={"X-CSRF-Token": csrf, "Accept": "application/json"})
    assert "options" in begun.json["registration"]


def test_without_tpps_view_options_the_hosts_derivers_refuse(tmp_path: Any) -> None:
    """The host's derivers are faithful: a view that declares nothing gets 405 on POST and a
    RuntimeError on the session; with TPP's deriver, the same view works."""

    def view(request: Any) -> Any:
        request.session["seen"] = True
        return request.response

    def app(with_tpp: bool) -> TestApp:
        config = Configurator()
        config.include("pyramid_services")
        from pyramid.session import SignedCookieSessionFactory

        config.set_session_factory(SignedCookieSessionFactory("s"))
        config.include("tests.warehouse_host.derivers")
        if with_tpp:
            config.add_view_deriver(host_view_options)
        config.add_route("tpp.thing", "/thing")
        config.add_view(view, route_name="tpp.thing", request_method="POST", require_csrf=False)
        return TestApp(config.make_wsgi_app())

    app(with_tpp=False).post("/thing", status=405)
    assert app(with_tpp=True).post("/thing").status_int == 200
    assert session_view.options == {"uses_session"}  # type: ignore[attr-defined]


def test_tpps_csp_is_merged_into_the_hosts(world: World) -> None:
    world.app.post("/login", {"person": "lead"})
    policy = parse(world.app.get("/tpp/devices").headers["Content-Security-Policy"])
    assert policy["worker-src"] == ["*.fastly-insights.com", "'self'"]  # the service worker is allowed
    assert policy["script-src"] == ["'self'", "https://analytics.example"]  # the host's stay
    assert policy["default-src"] == ["'none'"]
    assert "'self'" in policy["connect-src"]
    assert "data:" in policy["img-src"]
    # The host's other pages keep the host's policy alone.
    assert parse(world.app.get("/pypi/nothing/json", status=404).headers["Content-Security-Policy"])["worker-src"] == [
        "*.fastly-insights.com"
    ]


def test_held_uploads_reach_the_journal_and_the_cache_only_when_published(world: World) -> None:
    world.gate()
    before = changelog(world)
    world.pyramid["host.purged"].clear()
    request_id = world.request_of(world.upload(WHEEL))
    entries = changelog(world)
    assert [e[3] for e in entries[len(before) :]] == ["create"]  # the project's name, never the file's
    assert WHEEL[0] not in str(entries)
    serial = entries[-1][4]

    world.pyramid["host.purged"].clear()
    world.decide(request_id, "lead")
    published = changelog(world, serial)
    assert [(e[0], e[1], e[3]) for e in published] == [
        ("acme", "1.0", "new release"),
        ("acme", "1.0", f"add py3 file {WHEEL[0]}"),
    ]
    assert {"project/acme", "all-projects"} <= set().union(*world.pyramid["host.purged"])
    assert world.app.get("/simple/acme/").headers["X-PyPI-Last-Serial"] == str(published[-1][4])


def test_a_rejected_upload_never_reaches_the_journal(world: World) -> None:
    world.gate()
    request_id = world.request_of(world.upload(WHEEL))
    serial = changelog(world)[-1][4]
    from tpp_core import Verdict

    world.decide(request_id, "lead", Verdict.REJECT)
    assert changelog(world, serial) == []


@pytest.mark.parametrize("body", [b"<not xml", xmlrpc.client.dumps((), "no_such_method").encode()])
def test_the_hosts_xmlrpc_answers_bad_calls_with_a_fault(world: World, body: bytes) -> None:
    answer = world.app.post("/pypi", body, headers={"Content-Type": "text/xml"})
    with pytest.raises(xmlrpc.client.Fault):
        xmlrpc.client.loads(answer.body)
