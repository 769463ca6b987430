"""On the Warehouse-shaped host, a signed-in session alone (a hijacked cookie) changes nothing in TPP
(I3): every change needs the session confirmed with one of the person's devices, as on devpi."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from tests.common.registry import ORIGIN
from tests.warehouse.conftest import World
from tpp_core import PersonId
from tpp_warehouse.models import AuditRecord, DeviceRecord, InvitationRecord, PolicyRecord, RequestRecord


def signed_in(world: World, person: str) -> TestApp:
    browser = TestApp(world.app.app, extra_environ=world.app.extra_environ)
    browser.post("/login", {"person": person})
    return browser


def token(browser: TestApp, page: str = "/tpp/devices") -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', browser.get(page).text)
    assert match is not None
    return match[1]


def counts(world: World) -> tuple[int, ...]:
    session = world.registry.session
    session.rollback()
    tables = (AuditRecord, DeviceRecord, InvitationRecord, PolicyRecord, RequestRecord)
    return tuple(session.scalar(select(func.count()).select_from(t)) or 0 for t in tables)


def changes(world: World) -> list[tuple[str, dict[str, Any]]]:
    [device] = world.registry.devices.devices(PersonId("lead"))
    return [
        ("/tpp/policies/project/acme/invitations", {"person": "dave"}),
        ("/tpp/policies/project/acme", {"policy": "{}"}),
        (f"/tpp/devices/{device.id}/rename", {"name": "mine"}),
        (f"/tpp/devices/{device.id}/remove", {}),
        ("/tpp/recoveries", {"person": "cora"}),
    ]


@pytest.mark.parametrize("change", range(5))
def test_the_hosts_session_alone_changes_nothing(world: World, change: int) -> None:
    world.gate("acme", "lead")
    url, fields = changes(world)[change]
    browser = signed_in(world, "lead")
    before = counts(world)
    answer = browser.post(url, {**fields, "csrf_token": token(browser)}, status=403)
    assert "confirm with one of your devices first" in answer.text
    assert counts(world) == before


def test_confirmed_with_a_device_the_same_session_may_change_things(world: World) -> None:
    world.gate("acme", "lead")
    browser = signed_in(world, "lead")
    headers = {"Accept": "application/json", "X-CSRF-Token": token(browser, "/tpp/confirm")}
    begun = browser.post_json("/tpp/confirm/begin", {}, headers=headers).json
    assertion = world.registry.authenticators["lead"].get(json.loads(begun["options"]), ORIGIN)
    body = {"ceremony": {"id": begun["id"], "credential": json.dumps(assertion)}}
    browser.post_json("/tpp/confirm/finish", body, headers=headers)
    [device] = world.registry.devices.devices(PersonId("lead"))
    answer = browser.post(f"/tpp/devices/{device.id}/rename", {"name": "laptop", "csrf_token": token(browser)})
    assert answer.status_int == 303
    world.registry.session.rollback()
    assert [d.name for d in world.registry.devices.devices(PersonId("lead"))] == ["laptop"]
