"""A stolen devpi password changes nothing in TPP (I3, I5, I6), on a real devpi-server with twine and pip.

On devpi the upload credential is the account password (or the ``X-Devpi-Auth`` token derived from
it). The attacker here holds alice's password and a puppet account of their own, never alice's
device: every route that would let them choose the approvers, approve, or replace alice's device
must end with pip unable to install what they uploaded.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import requests

from tests.common.devpi import PASSWORD, Browser, DevpiServer, wheel
from tests.common.scenario import group
from tpp_core import Policy, RequestState, Scope

pytestmark = pytest.mark.service


def thief(server: DevpiServer) -> Browser:
    """A browser signed in to TPP with alice's password, and an authenticator that is not alice's."""
    return Browser(server.url, "alice").sign_in()


def form(browser: Browser, path: str, **fields: str) -> requests.Response:
    data = {**fields, "csrf_token": browser.csrf("/+tpp/devices")}
    return browser.http.post(browser.url + path, data=data, allow_redirects=False, timeout=30)


def test_the_sign_in_is_completed_with_a_device(server: DevpiServer, people: dict[str, Browser]) -> None:
    browser = Browser(server.url, "alice")
    answer = browser.http.post(
        f"{server.url}/+tpp/login",
        data={"username": "alice", "password": PASSWORD, "csrf_token": browser.csrf(), "next": "/+tpp/audit"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/+tpp/confirm?next=%2F%2Btpp%2Faudit")
    page = browser.get("/+tpp/confirm?next=/%2Btpp/audit").text
    assert 'id="confirm-device"' in page


def test_a_new_project_name_gets_alices_default_policy_and_the_thief_cannot_change_it(
    server: DevpiServer, people: dict[str, Browser], dist: Path
) -> None:
    """Route 2: upload a fresh name, invite a puppet, save a first policy naming only the puppet."""
    path = wheel(dist, "fresh-name", "1.0")
    assert server.twine_upload("alice", "rel", path).returncode == 0  # with alice's password
    request = server.request_for("fresh-name", "1.0")
    assert [sorted(g.members) for g in request.policy.groups] == [["alice"]]  # the default policy
    assert ("alice", "approval-needed") in server.notified(request.id)

    server.create_user("puppet")
    puppet = Browser(server.url, "puppet").sign_in()
    puppet.enrol()  # the puppet's own first device: allowed, and it confirms the puppet's session
    mallory = thief(server)
    invited = form(mallory, "/+tpp/policies/project/fresh-name/invitations", person="puppet")
    assert invited.status_code == 403
    assert "confirm with one of your devices first" in invited.text
    only_puppet = Policy(scope=Scope.project("fresh-name"), version=2, groups=(group("g", "puppet"),))
    proposed = form(mallory, "/+tpp/policies/project/fresh-name", policy=str(only_puppet.to_dict()))
    assert proposed.status_code == 403
    refused = puppet.post_json(f"/+tpp/requests/{request.id}/begin", {"verdict": "approve"})
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": f"puppet is not an eligible approver of request {request.id}"},
    )

    assert [r.state for r in server.requests_of("fresh-name")] == [RequestState.VERIFYING]
    assert server.pip("download", "-d", str(dist / "dl"), "fresh-name==1.0", index="alice/rel").returncode != 0


def test_the_thief_cannot_remove_or_replace_alices_device(server: DevpiServer, people: dict[str, Browser]) -> None:
    """Route 3: remove alice's devices, then enrol the attacker's authenticator as her "first" one."""
    alice = people["alice"]
    mallory = thief(server)
    assert alice.device is not None
    removed = form(mallory, f"/+tpp/devices/{alice.device}/remove")
    assert removed.status_code == 403
    renamed = form(mallory, f"/+tpp/devices/{alice.device}/rename", name="mine")
    assert renamed.status_code == 403

    # Enrolling needs a voucher from alice's device, which the thief cannot give.
    begun = mallory.post_json("/+tpp/devices/begin", {}).json()
    assert begun["vouch"] is not None
    created = mallory.key.create(json.loads(begun["registration"]["options"]), server.url)
    registration = {"id": begun["registration"]["id"], "credential": json.dumps(created)}
    answer = mallory.post_json("/+tpp/devices/finish", {"name": "mine", "registration": registration, "vouch": None})
    assert answer.status_code == 403
    assert answer.json()["error"] == "alice already has a device; confirm the new one with it"

    # Nor can anyone confirm a session with a device that is not alice's.
    begun = mallory.post_json("/+tpp/confirm/begin", {}).json()
    assertion = mallory.key.get(json.loads(begun["options"]), server.url)
    ceremony = {"id": begun["id"], "credential": json.dumps(assertion)}
    assert mallory.post_json("/+tpp/confirm/finish", {"ceremony": ceremony}).status_code in (400, 403)


def test_a_person_who_removed_every_device_cannot_bootstrap_again_with_the_password(server: DevpiServer) -> None:
    """Even after gus removed his only device himself, his password cannot enrol a "first" one."""
    server.create_user("gus")
    gus = Browser(server.url, "gus").sign_in()
    device = gus.enrol()
    assert form(gus, f"/+tpp/devices/{device}/remove").status_code == 303  # confirmed by enrolling
    mallory = Browser(server.url, "gus").sign_in()
    answer = mallory.post_json("/+tpp/devices/begin", {})
    assert answer.status_code == 403
    assert answer.json()["error"].startswith("gus had devices before; to enrol a new one, ask an owner")

    # root, the registry's admin, vouches (from a confirmed session); then gus may enrol again.
    root = Browser(server.url, "root").sign_in()
    root.enrol()
    assert form(root, "/+tpp/recoveries", person="gus").status_code == 303
    assert mallory.enrol() > 0  # the recovered device (announced, and cooled down like any other)


@pytest.mark.parametrize("scheme", ["basic", "x-devpi-auth"])
def test_devpis_credentials_reach_no_change(server: DevpiServer, people: dict[str, Browser], scheme: str) -> None:
    login = requests.post(
        f"{server.url}/+login",
        json={"user": "alice", "password": PASSWORD},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    if scheme == "basic":
        header = "Basic " + base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
        headers = {"Authorization": header}
    else:
        password = login.json()["result"]["password"]
        token = base64.b64encode(f"alice:{password}".encode()).decode()
        headers = {"X-Devpi-Auth": token}
    for path in ("/+tpp/policies/project/hello/invitations", "/+tpp/recoveries", "/+tpp/confirm/begin"):
        answer = requests.post(server.url + path, data={"person": "x"}, headers=headers, timeout=30)
        assert answer.status_code in (400, 403), (path, answer.status_code)
