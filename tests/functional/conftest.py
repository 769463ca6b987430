"""Functional tests: the pages and endpoints through WebTest, against the test host and a real
database (SQLite and PostgreSQL), with software authenticators instead of a browser."""

from __future__ import annotations

import gc
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from webtest import TestApp

from tests.common.registry import ORIGIN, Registry
from tests.common.webapp import WebHost, make_app


@pytest.fixture
def host() -> WebHost:
    return WebHost(tokens={"ci-secret": "ci"})


@pytest.fixture
def app(engine: Engine, host: WebHost) -> Iterator[TestApp]:
    """The host app on the migrated database; requests come from http://localhost:6543."""
    router = make_app(engine.url.render_as_string(hide_password=False), host)
    yield TestApp(router, extra_environ={"HTTP_HOST": "localhost:6543"})
    # Close the app's pooled connections before the database is dropped, and the temporary files
    # WebOb keeps for request bodies over 10 KB, instead of leaving both to a later test's GC.
    router.registry["tpp.engine"].dispose()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
def registry(engine: Engine, host: WebHost) -> Iterator[Registry]:
    """Direct access to the services, for setting up what the pages then show; call
    ``registry.session.commit()`` before the app reads it."""
    with Session(engine) as session:
        registry = Registry(session, host=host)
        registry.now = datetime.now(UTC)  # the app reads the wall clock
        yield registry


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
