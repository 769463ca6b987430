"""Functional tests: the pages and endpoints through WebTest, against the test host and a real
database (SQLite and PostgreSQL), with software authenticators instead of a browser.

The host app is built once per module (and backend) on the module's database URL; each test gets a
fresh migrated database at that URL, a reset host, the app's clock back at ``T0`` and a new WebTest
client (no cookies).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import fields
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from webtest import TestApp

from tests.common.clock import FixedClock
from tests.common.databases import Slot
from tests.common.registry import ORIGIN, Registry
from tests.common.scenario import T0
from tests.common.webapp import WebHost, make_app


def _new_host() -> WebHost:
    return WebHost(tokens={"ci-secret": "ci"})


@pytest.fixture(scope="module")
def module_host() -> WebHost:
    """The host object the module's app holds; :func:`host` resets it for every test."""
    return _new_host()


@pytest.fixture
def host(module_host: WebHost) -> WebHost:
    """The test host as new: its projects, owners and tokens, nothing published or purged."""
    new = _new_host()
    for field in fields(new):
        setattr(module_host, field.name, getattr(new, field.name))
    return module_host


@pytest.fixture(scope="module")
def module_clock() -> FixedClock:
    """The clock the module's app reads; :func:`clock` sets it back to ``T0`` for every test."""
    return FixedClock()


@pytest.fixture
def clock(module_clock: FixedClock) -> FixedClock:
    """The app's clock, at ``T0``; the ``registry`` fixture moves it with its own time."""
    module_clock.set(T0)
    return module_clock


@pytest.fixture(scope="module")
def module_app(migrated_database: Slot, module_host: WebHost, module_clock: FixedClock) -> Iterator[Any]:
    """The host app (a WSGI router) with the default settings, built once per module and backend."""
    router = make_app(migrated_database.url, module_host, module_clock)
    yield router
    router.registry["tpp.engine"].dispose()


@pytest.fixture
def app(engine: Engine, host: WebHost, clock: FixedClock, module_app: Any) -> Iterator[TestApp]:
    """The host app on a fresh migrated database; requests come from http://localhost:6543."""
    yield TestApp(module_app, extra_environ={"HTTP_HOST": "localhost:6543"})
    # The next test's database replaces this one: close the connections to it now.
    module_app.registry["tpp.engine"].dispose()


@pytest.fixture
def app_with(engine: Engine, host: WebHost, clock: FixedClock) -> Iterator[Callable[..., TestApp]]:
    """Build the host app with other settings, for this test alone; its connections close after it."""
    routers: list[Any] = []

    def build(**settings: str) -> TestApp:
        routers.append(make_app(engine.url.render_as_string(hide_password=False), host, clock, **settings))
        return TestApp(routers[-1], extra_environ={"HTTP_HOST": "localhost:6543"})

    yield build
    for router in routers:
        router.registry["tpp.engine"].dispose()


@pytest.fixture
def registry(engine: Engine, host: WebHost, clock: FixedClock) -> Iterator[Registry]:
    """Direct access to the services, for setting up what the pages then show; call
    ``registry.session.commit()`` before the app reads it. It shares the app's clock, so
    ``registry.tick`` moves the app's time too."""
    with Session(engine) as session:
        yield Registry(session, host=host, clock=clock)


def login(app: TestApp, person: str, registry: Registry | None = None) -> None:
    """Sign ``person`` in through the host's (test-only) sign-in form; with ``registry``, also confirm
    the session with the person's device (see :func:`confirm`), so that it may change things."""
    app.post("/login", {"person": person})
    if registry is not None:
        confirm(app, registry, person)


def confirm(app: TestApp, registry: Registry, person: str) -> Any:
    """Confirm the signed-in session as the confirmation page does (begin, assert, finish), with the
    person's software authenticator; a person without one first gets a device through the services."""
    if person not in registry.authenticators:
        registry.enrol(person)
        registry.session.commit()
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(app, "/tpp/confirm")}
    begun = app.post_json("/tpp/confirm/begin", {}, headers=headers).json
    assertion = registry.authenticators[person].get(json.loads(begun["options"]), ORIGIN)
    ceremony = {"id": begun["id"], "credential": json.dumps(assertion)}
    return app.post_json("/tpp/confirm/finish", {"ceremony": ceremony, "next": "/tpp/devices"}, headers=headers)


def csrf(app: TestApp, page: str = "/tpp/devices") -> str:
    """The CSRF token of the signed-in session, as TPP's pages publish it."""
    return app.get(page).html.find("meta", {"name": "csrf-token"})["content"]
