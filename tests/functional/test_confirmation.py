"""A session alone changes nothing (I3): every change needs a session confirmed with one of the
person's devices; a person who had devices is recovered only through someone else's voucher (I6).

The host's session here plays the stolen password of devpi (whose password is its upload
credential) and a hijacked session of a Warehouse-shaped host: each endpoint that changes who
approves, what is approved or which devices count is tried with it and must store nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from tests.common.authenticator import SoftAuthenticator
from tests.common.registry import ORIGIN, Registry
from tests.common.scenario import group
from tests.functional.conftest import csrf, login
from tests.functional.test_devices_pages import device_ids, device_rows, enrol, post_json
from tpp_core import PersonId, Policy, ReleaseFile, Scope, Sha256
from tpp_warehouse.models import (
    AuditRecord,
    DeviceRecord,
    InvitationRecord,
    NotificationRecord,
    PolicyRecord,
    RecoveryRecord,
    RequestRecord,
)

ACME = Scope.project("acme")
_TABLES = (AuditRecord, DeviceRecord, InvitationRecord, PolicyRecord, RecoveryRecord, RequestRecord)


def counts(registry: Registry) -> dict[str, int]:
    """How many rows each of TPP's state tables holds, as the app committed them."""
    registry.session.rollback()
    return {t.__tablename__: registry.session.scalar(select(func.count()).select_from(t)) or 0 for t in _TABLES}


def wheel_file(version: str = "1.0") -> ReleaseFile:
    content = f"acme {version}".encode()
    return ReleaseFile(
        filename=f"acme-{version}-py3-none-any.whl",
        sha256=Sha256(hashlib.sha256(content).hexdigest()),
        size=len(content),
    )


@pytest.fixture
def acme(registry: Registry) -> Registry:
    """lead and cora have devices and approve acme (one seat); bob is invited; one release waits."""
    registry.enrol("lead", "cora")
    registry.invite(ACME, "cora")
    registry.set_policy(Policy(scope=ACME, version=1, groups=(group("maintainers", "lead", "cora"),)))
    registry.invitations.invite(PersonId("lead"), ACME, PersonId("bob"), registry.now)
    registry.upload("acme", "1.0", wheel_file())
    registry.session.commit()
    return registry


def _form(app: TestApp, url: str, fields: dict[str, str] | None = None) -> Any:
    return app.post(url, {**(fields or {}), "csrf_token": csrf(app)}, status="*")


def _json(app: TestApp, url: str, body: Any) -> Any:
    return post_json(app, url, body, status="*")


def _changes(registry: Registry) -> dict[str, Any]:
    """Every endpoint that changes something, as (sender, url, fields); ids from ``registry``."""
    [lead_device, *_] = [d.id for d in registry.devices.devices(PersonId("lead"))]
    [invitation] = registry.invitations.pending_for(PersonId("bob"))
    [request] = registry.approvals.history(ACME.value)
    policy = Policy(scope=ACME, version=2, groups=(group("maintainers", "lead"),)).to_dict()
    return {
        "invite": (_form, "/tpp/policies/project/acme/invitations", {"person": "mallory"}),
        "accept": (_form, f"/tpp/invitations/{invitation.id}/accept", {}),
        "decline": (_form, f"/tpp/invitations/{invitation.id}/decline", {}),
        "propose": (_form, "/tpp/policies/project/acme", {"policy": json.dumps(policy)}),
        "cancel": (_form, f"/tpp/requests/{request.id}/cancel", {}),
        "rename": (_form, f"/tpp/devices/{lead_device}/rename", {"name": "pwned"}),
        "remove": (_form, f"/tpp/devices/{lead_device}/remove", {}),
        "recover": (_form, "/tpp/recoveries", {"person": "cora"}),
        "push": (_json, f"/tpp/devices/{lead_device}/push", {"subscription": None}),
    }


CHANGES = ["invite", "accept", "decline", "propose", "cancel", "rename", "remove", "recover", "push"]


@pytest.mark.parametrize("change", CHANGES)
def test_a_session_without_a_confirmed_device_changes_nothing(app: TestApp, acme: Registry, change: str) -> None:
    """The attacker holds the password (a session) but none of the person's devices."""
    sender, url, fields = _changes(acme)[change]
    person = "bob" if change in ("accept", "decline") else "lead"
    login(app, person)  # signed in, not confirmed
    before = counts(acme)
    answer = sender(app, url, fields)
    assert answer.status_int == 403, answer.text
    assert "confirm with one of your devices first" in answer.text
    assert counts(acme) == before


@pytest.mark.parametrize("change", CHANGES)
def test_a_confirmed_session_may_change_things(app: TestApp, acme: Registry, change: str) -> None:
    """The same calls with the device step done succeed, so the refusal above is the confirmation's."""
    sender, url, fields = _changes(acme)[change]
    person = "bob" if change in ("accept", "decline") else "lead"
    login(app, person, acme)
    if change == "recover":  # cora must have had devices and lost them for a voucher to make sense
        acme.devices.remove(PersonId("cora"), acme.devices.devices(PersonId("cora"))[0].id, acme.now)
        acme.session.commit()
    answer = sender(app, url, fields)
    assert answer.status_int in (200, 303), answer.text


def test_the_confirmation_page_proves_a_device_once(app: TestApp, registry: Registry) -> None:
    registry.enrol("lead")
    registry.session.commit()
    login(app, "lead")
    page = app.get("/tpp/confirm", {"next": "/tpp/policies/project/acme"})
    form = page.html.find(id="confirm-device")
    assert form["data-next"] == "/tpp/policies/project/acme"
    assert app.get("/tpp/devices").html.select_one(".confirm-hint") is not None
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(app, "/tpp/confirm")}
    begun = app.post_json("/tpp/confirm/begin", {}, headers=headers).json
    assertion = registry.authenticators["lead"].get(json.loads(begun["options"]), ORIGIN)
    body = {"ceremony": {"id": begun["id"], "credential": json.dumps(assertion)}, "next": "/tpp/audit"}
    assert app.post_json("/tpp/confirm/finish", body, headers=headers).json == {"next": "/tpp/audit"}
    assert app.get("/tpp/devices").html.select_one(".confirm-hint") is None
    # The ceremony was used up: the same answer again is refused.
    headers["X-CSRF-Token"] = csrf(app, "/tpp/confirm")
    assert app.post_json("/tpp/confirm/finish", body, headers=headers, status=400).json["error"]
    kinds = [kind for (kind,) in registry.session.execute(select(AuditRecord.kind))]
    assert kinds.count("tpp:device:confirmed-session") == 1


@pytest.mark.parametrize(
    ("next_page", "expected"),
    [
        ("/tpp/requests/abc", "/tpp/requests/abc"),
        ("https://evil.example/tpp/", "/tpp/requests"),
        ("//evil.example/tpp/", "/tpp/requests"),
        ("/tpp/\r\nSet-Cookie: x=1", "/tpp/requests"),
        ("/elsewhere", "/tpp/requests"),
    ],
)
def test_confirming_returns_only_to_tpps_own_pages(
    app: TestApp, registry: Registry, next_page: str, expected: str
) -> None:
    registry.enrol("lead")
    registry.session.commit()
    login(app, "lead")
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(app, "/tpp/confirm")}
    begun = app.post_json("/tpp/confirm/begin", {}, headers=headers).json
    assertion = registry.authenticators["lead"].get(json.loads(begun["options"]), ORIGIN)
    body = {"ceremony": {"id": begun["id"], "credential": json.dumps(assertion)}, "next": next_page}
    assert app.post_json("/tpp/confirm/finish", body, headers=headers).json == {"next": expected}
    assert app.get("/tpp/confirm", {"next": next_page}).html.find(id="confirm-device")["data-next"] == expected


def test_another_persons_device_cannot_confirm_a_session(app: TestApp, registry: Registry) -> None:
    registry.enrol("lead", "mallory")
    registry.session.commit()
    login(app, "lead")
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(app, "/tpp/confirm")}
    begun = app.post_json("/tpp/confirm/begin", {}, headers=headers).json
    assertion = registry.authenticators["mallory"].get(json.loads(begun["options"]), ORIGIN)
    body = {"ceremony": {"id": begun["id"], "credential": json.dumps(assertion)}}
    answer = app.post_json("/tpp/confirm/finish", body, headers=headers, status=403)
    assert answer.json["error"] == "the confirming device is not one of lead's devices"
    assert app.get("/tpp/devices").html.select_one(".confirm-hint") is not None


def test_a_person_without_a_device_is_sent_to_enrol_one(app: TestApp, registry: Registry) -> None:
    login(app, "newbie")
    page = app.get("/tpp/confirm")
    assert page.html.find(id="confirm-device") is None
    assert "You have no device yet" in page.text
    headers = {"Accept": "application/json", "X-CSRF-Token": csrf(app, "/tpp/confirm")}
    answer = app.post_json("/tpp/confirm/begin", {}, headers=headers, status=403)
    assert answer.json["error"] == "newbie has no device yet: enrol one on the devices page"


def test_the_confirmation_lapses_with_its_device_and_with_another_sign_in(app: TestApp, acme: Registry) -> None:
    login(app, "lead", acme)
    [device_id] = device_ids(app)
    assert _form(app, f"/tpp/devices/{device_id}/rename", {"name": "laptop"}).status_int == 303
    # Signing in as someone else in this browser keeps no confirmation of lead's.
    login(app, "cora")
    assert _form(app, "/tpp/policies/project/acme/invitations", {"person": "erin"}).status_int == 403
    # A device removed (here by its owner, in another browser) confirms nothing any more.
    login(app, "lead", acme)
    other = TestApp(app.app, extra_environ=app.extra_environ)
    login(other, "lead", acme)
    assert _form(other, f"/tpp/devices/{device_id}/remove").status_int == 303
    answer = _form(app, "/tpp/policies/project/acme/invitations", {"person": "erin"})
    assert answer.status_int == 403
    assert "confirm with one of your devices first" in answer.text


# --- bootstrap and recovery ------------------------------------------------------------------------------


def test_removing_every_device_then_enrolling_one_needs_someone_elses_voucher(app: TestApp, acme: Registry) -> None:
    """The device-swap attack: even with a confirmed session, removing all devices and enrolling the
    attacker's as a "first" device is refused; a co-owner's voucher is the way back."""
    login(app, "lead", acme)
    for device_id in device_ids(app):
        assert _form(app, f"/tpp/devices/{device_id}/remove").status_int == 303
    page = app.get("/tpp/devices")
    assert "You had devices before and none is left" in page.html.find(id="recovery-needed").text
    attacker = SoftAuthenticator()
    before = counts(acme)
    answer = post_json(app, "/tpp/devices/begin", {}, status=403)
    assert answer.json["error"].startswith("lead had devices before; to enrol a new one, ask an owner")
    assert counts(acme) == before

    # cora approves acme with lead, and owns it: she vouches for lead from her confirmed session.
    acme.host.owners_of["acme"].add("cora")
    cora = TestApp(app.app, extra_environ=app.extra_environ)
    login(cora, "cora", acme)
    vouched = _form(cora, "/tpp/recoveries", {"person": "lead"})
    assert vouched.status_int == 303
    assert "You vouched for lead" in vouched.follow().text
    assert enrol(app, attacker, "new phone").status_int == 200
    [row] = device_rows(app)
    assert row[0] == "new phone"
    assert row[3] == "recovered: someone else vouched for you (your co-owners were told)"
    acme.session.rollback()
    told = {(n.person, n.reason) for n in acme.session.scalars(select(NotificationRecord))}
    assert ("cora", "device-recovered") in told
    # The voucher is used up.
    assert post_json(app, "/tpp/devices/begin", {}).json["vouch"] is not None  # now lead has a device again
    [voucher] = acme.session.scalars(select(RecoveryRecord))
    assert voucher.used_at is not None


def test_a_recovery_replaces_the_devices_the_person_still_has(app: TestApp, acme: Registry) -> None:
    """lead lost the phone (still enrolled, perhaps in a thief's hands): the recovered device replaces it."""
    lost = acme.devices.devices(PersonId("lead"))[0].id
    acme.devices.recover(PersonId("root"), PersonId("lead"), acme.now)
    acme.session.commit()
    login(app, "lead")
    assert enrol(app, SoftAuthenticator(), "new phone").status_int == 200
    assert [row[0] for row in device_rows(app)] == ["new phone"]
    acme.session.rollback()
    assert acme.session.get(DeviceRecord, lost) is None


@pytest.mark.parametrize(
    ("voucher", "person", "status", "message"),
    [
        ("lead", "lead", 403, "nobody can vouch for themselves"),
        ("mallory", "lead", 403, "only the registry's admin, or an owner of a project lead approves for"),
        ("root", "nobody", 400, "nobody never had a device: they enrol their first one themselves"),
    ],
)
def test_only_an_owner_or_the_admin_vouches_for_another_person(
    app: TestApp, acme: Registry, voucher: str, person: str, status: int, message: str
) -> None:
    login(app, voucher, acme)
    before = counts(acme)
    answer = _form(app, "/tpp/recoveries", {"person": person})
    assert answer.status_int == status
    assert message in answer.html.find(class_="error").text
    assert counts(acme) == before
