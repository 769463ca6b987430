"""Journey J3 on a real devpi-server, in real Chromium: devices enrolled with the browser's own
authenticator, a second device confirmed by the first, a policy written in the editor for people who
accepted invitations, a release approved by two people in two browsers, another rejected, forged
answers refused, and the service worker's notification (I2, I4, I6, I7, I9, I10)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.common.devpi import PASSWORD, DevpiServer, wheel
from tests.common.scenario import group
from tpp_core import Policy, RequestState, Scope
from tpp_devpi.options import ROUTE_PREFIX
from tpp_warehouse.delivery import message
from tpp_warehouse.models import DeviceRecord, NotificationRecord
from tpp_warehouse.settings import TPPSettings
from tpp_warehouse.vapid import generate

from .chromium import Person

pytestmark = [pytest.mark.service, pytest.mark.browser]


@pytest.fixture(scope="module")
def server_options(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ...]:
    """A VAPID key, so the devices page offers notifications and the service worker's data; a
    registry name as a deployment has (the screenshots show it)."""
    private_key, _public = generate(tmp_path_factory.mktemp("vapid"))
    vapid = ("--tpp-vapid-private-key", str(private_key), "--tpp-vapid-subject", "mailto:ops@example.org")
    return (*vapid, "--tpp-registry-name", "https://pypi.example.org")


def signed_in(chromium: Browser, server: DevpiServer, name: str, *, phone: bool = False) -> Person:
    """``name``'s browser, signed in through the sign-in form with their devpi password."""
    person = Person(chromium, server.url, ROUTE_PREFIX, name, phone=phone)
    page = person.open("/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page.locator("#login")).to_have_count(0)
    return person


@pytest.fixture(scope="module")
def people(chromium: Browser, server: DevpiServer) -> Iterator[dict[str, Person]]:
    """alice (owner of the tpp index alice/rel) on a laptop, bob on a phone, cora on a laptop:
    each signed in with a first device enrolled in the browser."""
    browsers = {}
    for name in ("alice", "bob", "cora"):
        server.create_user(name)
        browsers[name] = signed_in(chromium, server, name, phone=name == "bob")
        browsers[name].enrol("phone" if name == "bob" else "laptop")
    assert server.create_index("alice", "rel").status_code == 200
    yield browsers
    for person in browsers.values():
        assert person.page_errors == []
        person.close()


def upload(server: DevpiServer, tmp_path: Path, version: str, project: str = "hello") -> Path:
    """twine-upload ``project`` ``version``'s wheel to alice/rel; the wheel."""
    path = wheel(tmp_path, project, version)
    done = server.twine_upload("alice", "rel", path)
    assert done.returncode == 0, done.stdout + done.stderr
    return path


def gated(server: DevpiServer, project: str) -> None:
    """Give ``project`` a policy of one seat among alice and bob (the editor is walked above)."""
    policy = Policy(scope=Scope.project(project), version=1, groups=(group("maintainers", "alice", "bob"),))
    server.set_policy(policy, by="alice")


def public(server: DevpiServer, path: Path) -> bool:
    """Whether the uploaded wheel can be downloaded."""
    return requests.get(server.file_url("alice", "rel", path), timeout=10).status_code == 200


def test_a_second_device_is_confirmed_by_the_first(chromium: Browser, server: DevpiServer) -> None:
    server.create_user("erin")
    laptop = signed_in(chromium, server, "erin")
    page = laptop.enrol("laptop")
    expect(page.locator("#devices")).to_contain_text("first device (your co-owners were told)")

    phone = signed_in(chromium, server, "erin", phone=True)
    # erin has a device: the sign-in continues on the confirmation page, which fits a phone.
    expect(phone.page.locator("#confirm-device")).to_be_visible()
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot("confirm-phone")
    page = phone.enrol_vouched_by(laptop, "phone")
    rows = page.locator("#devices tr[data-device]")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("confirmed with another of your devices")
    assert [len(laptop.credentials()), len(phone.credentials())] == [1, 1]  # one key on each device

    # Enrolling the phone again is refused by its own authenticator (the exclude list), and said so.
    page.fill("#device-name", "phone again")
    page.click("#add-device button[type=submit]")
    assert phone.notice(error=True) == "This device is already registered. Nothing was changed."
    expect(page.locator("#devices tr[data-device]")).to_have_count(2)

    laptop.open("/devices")
    laptop.screenshot("devices")
    for person in (laptop, phone):
        assert person.page_errors == []
        person.close()


def test_a_policy_in_the_editor_then_two_people_approve_and_one_rejects(
    people: dict[str, Person], server: DevpiServer, tmp_path: Path
) -> None:
    alice, bob, cora = people["alice"], people["bob"], people["cora"]
    # The first upload claims the name for alice and gives it the default policy (I5): its request
    # opens at once, and alice alone may approve it.
    first = upload(server, tmp_path, "1.0")
    first_id = server.request_for("hello", "1.0").id
    expect(alice.open(f"/requests/{first_id}").locator("#groups")).to_contain_text("(Default)")

    # alice invites bob and cora; each accepts under "Waiting for you".
    page = alice.open("/policies/project/hello")
    for name in ("bob", "cora"):
        page.fill("#invitee", name)
        page.click("#invite-form button[type=submit]")
        expect(page.locator("#approvers")).to_contain_text(name)
    for person in (bob, cora):
        invitations = person.open("/requests").locator("#invitations")
        expect(invitations).to_contain_text("alice invites you to approve for project hello")
        invitations.get_by_role("button", name="Accept").click()
        expect(person.page.locator("#invitations")).to_have_count(0)
    expect(alice.open("/policies/project/hello").locator("#approvers")).not_to_contain_text("not answered yet")

    # Two groups, one of the maintainers and cora from security: a change of the default policy, so
    # a request that the policy in force (alice) approves with her device.
    policy = Policy(
        scope=Scope.project("hello"),
        version=2,
        groups=(group("maintainers", "alice", "bob"), group("security", "cora")),
    )
    page.click("#policy-advanced summary")  # the form editor is walked on the Warehouse-shaped host
    page.fill("#policy-json", json.dumps(policy.to_dict(), indent=2))
    expect(page.locator("#builder-groups fieldset.group-editor")).to_have_count(2)  # the form follows the JSON
    page.click("#policy-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Policy change of hello")
    change_id = page.url.rsplit("/", 1)[-1]
    expect(alice.decide(change_id, "approve").locator("#state")).to_have_text("approved")
    expect(alice.open("/policies/project/hello").locator("tr.policy-group")).to_have_count(2)
    alice.screenshot("policy")

    # 1.0 keeps the policy it was opened under: alice's approval publishes it.
    assert not public(server, first)
    expect(alice.decide(first_id, "approve").locator("#state")).to_have_text("approved")
    assert public(server, first)

    # 1.1 comes under version 2: one maintainer and cora.
    path = upload(server, tmp_path, "1.1")
    request_id = server.request_for("hello", "1.1").id
    page = bob.open(f"/requests/{request_id}")
    expect(page.locator("#files")).to_contain_text("hello-1.1-py3-none-any.whl")
    bob.screenshot("approval-phone")
    bob.decide(request_id, "approve")
    expect(bob.page.locator("#state")).to_have_text("verifying")  # security's seat is still empty
    assert not public(server, path)
    page = cora.decide(request_id, "approve")
    expect(page.locator("#state")).to_have_text("approved")
    assert public(server, path)

    path = upload(server, tmp_path, "1.2")
    request_id = server.request_for("hello", "1.2").id
    page = cora.decide(request_id, "reject", reason="not our build")
    expect(page.locator("#state")).to_have_text("rejected")
    expect(page.locator("#reason")).to_have_text("Reason given: not our build")
    assert not server.stored("alice", "rel", path)
    expect(bob.open(f"/requests/{request_id}").locator("#decide")).to_have_count(0)  # nothing left to decide


@pytest.mark.parametrize(
    ("project", "bits", "message"),
    [
        ("bogus-signature", {"isBogusSignature": True}, "the security key's signature does not match"),
        ("no-user-verification", {"isBadUV": True}, "user verification (PIN or biometrics) is required"),
    ],
)
def test_a_forged_answer_is_refused_and_changes_nothing(
    people: dict[str, Person], server: DevpiServer, tmp_path: Path, project: str, bits: dict[str, bool], message: str
) -> None:
    bob = people["bob"]
    gated(server, project)
    upload(server, tmp_path, "1.0", project)
    request_id = server.request_for(project, "1.0").id
    bob.misbehave(**bits)
    try:
        page = bob.press(request_id, "approve")
        assert message == bob.notice(error=True)
        expect(page.locator("#decide button[data-verdict=approve]")).to_be_enabled()  # may try again
    finally:
        bob.misbehave()
    (request,) = [r for r in server.requests_of(project) if r.id == request_id]
    assert request.state is RequestState.VERIFYING
    assert request.decisions == ()
    expect(bob.open(f"/requests/{request_id}").locator("#decide")).to_have_count(1)


def test_a_push_message_shows_a_notification_that_leads_to_the_approval_page(
    people: dict[str, Person], server: DevpiServer, tmp_path: Path
) -> None:
    bob = people["bob"]
    bob.context.grant_permissions(["notifications"], origin=server.url)
    registration = bob.register_service_worker()
    gated(server, "pushed")
    upload(server, tmp_path, "1.0", "pushed")
    request_id = server.request_for("pushed", "1.0").id
    # Exactly what the registry pushes to bob's devices (delivery.message on his outbox row).
    settings = TPPSettings(
        rp_id="localhost", origins=(server.url,), registry_name=server.url, route_prefix=ROUTE_PREFIX
    )
    with Session(server.engine) as session:
        row = session.scalars(
            select(NotificationRecord).where(
                NotificationRecord.subject == f"request:{request_id}", NotificationRecord.person == "bob"
            )
        ).one()
        payload = message(row, settings).payload
    url = f"{server.url}/+tpp/requests/{request_id}"
    assert payload == {"request": request_id, "reason": "approval-needed", "url": url}

    # The text comes from the registry (the status JSON, read with bob's session), not the message (I9).
    (notification,) = bob.push(registration, payload)
    assert notification == {
        "title": "Approval needed",
        "body": f"pushed 1.0 on localhost:{server.port}",
        "data": {"url": url},
    }
    # A message pointing elsewhere still opens only this registry's pages.
    (notification,) = bob.push(registration, {**payload, "url": "https://evil.example/approve"})
    assert notification["data"] == {"url": f"{server.url}/+tpp/"}

    # What a click opens (sw.js: the notification's URL): the approval page, with its decision.
    page = bob.page
    page.goto(url)
    expect(page.locator("h1")).to_have_text("pushed 1.0")
    expect(page.locator("#decide")).to_have_count(1)


#: Chromium here cannot reach a push service (its subscribe() never settles), so the page gets a
#: PushManager that answers as one would: a fresh P-256 key and auth secret, an https endpoint. It
#: keeps the applicationServerKey the page passed, for the test to compare with the registry's.
STUB_PUSH_MANAGER = """
(() => {
  const base64url = (bytes) =>
    btoa(String.fromCharCode(...bytes)).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  PushManager.prototype.getSubscription = async () => null;
  PushManager.prototype.subscribe = async (options) => {
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const p256dh = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    sessionStorage.setItem("applicationServerKey", base64url(new Uint8Array(options.applicationServerKey)));
    const subscription = {
      endpoint: "https://push.example/subscriptions/1",
      expirationTime: null,
      keys: { p256dh: base64url(p256dh), auth: base64url(crypto.getRandomValues(new Uint8Array(16))) },
    };
    return { toJSON: () => subscription };
  };
})();
"""


def test_notifications_are_turned_on_and_off_for_a_device(chromium: Browser, server: DevpiServer) -> None:
    server.create_user("fay")
    fay = signed_in(chromium, server, "fay", phone=True)
    fay.context.grant_permissions(["notifications"], origin=server.url)
    fay.context.add_init_script(script=STUB_PUSH_MANAGER)
    page = fay.enrol("phone")
    row = page.locator("#devices tr[data-device]")
    expect(row).to_contain_text("off")

    page.get_by_role("button", name="Notify me in this browser as phone").click()
    expect(row.locator("td").nth(4)).to_have_text("on")  # after push.js stored it and reloaded
    key = page.locator("#notifications").get_attribute("data-key")
    assert page.evaluate("() => sessionStorage.getItem('applicationServerKey')") == key  # the registry's VAPID key
    with Session(server.engine) as session:
        device = session.get(DeviceRecord, int(str(row.get_attribute("data-device"))))
        assert device is not None
        assert device.push_subscription is not None
        assert device.push_subscription["endpoint"] == "https://push.example/subscriptions/1"

    page.get_by_role("button", name="Turn off notifications for phone").click()
    expect(row.locator("td").nth(4)).to_have_text("off")
    assert fay.page_errors == []
    fay.close()


#: A PushManager whose push service turns the subscription down, as Chromium's does here when it
#: can reach none.
REFUSING_PUSH_MANAGER = """
PushManager.prototype.getSubscription = async () => null;
PushManager.prototype.subscribe = async () => {
  throw new DOMException("Registration failed - push service not available", "AbortError");
};
"""


def test_a_browser_that_will_not_notify_is_explained_and_nothing_is_stored(
    chromium: Browser, server: DevpiServer
) -> None:
    server.create_user("gil")
    gil = signed_in(chromium, server, "gil", phone=True)
    gil.context.add_init_script(script=REFUSING_PUSH_MANAGER)
    page = gil.enrol("phone")
    row = page.locator("#devices tr[data-device]")
    button = page.get_by_role("button", name="Notify me in this browser as phone")
    notice = page.locator("#tpp-notice")

    button.click()  # the site may not notify: the permission was never granted
    expect(notice).to_have_text("This browser does not allow notifications from this site; allow them in its settings.")
    gil.context.grant_permissions(["notifications"], origin=server.url)
    button.click()  # allowed now, but the browser's push service says no
    expect(notice).to_contain_text("This browser's push service did not accept the subscription")
    expect(notice).to_contain_text("(The browser said: Registration failed - push service not available)")
    expect(notice).to_have_class(re.compile(r"\berror\b"))
    expect(row.locator("td").nth(4)).to_have_text("off")
    with Session(server.engine) as session:
        device = session.get(DeviceRecord, int(str(row.get_attribute("data-device"))))
        assert device is not None
        assert device.push_subscription is None
    assert gil.page_errors == []
    gil.close()


def test_the_home_page_shows_who_is_signed_in_and_signs_out(
    chromium: Browser, people: dict[str, Person], server: DevpiServer
) -> None:
    alice, bob = people["alice"], people["bob"]
    # A policy of its own that names alice: this module's tests may run on other workers' servers.
    server.set_policy(Policy(scope=Scope.project("homely"), version=1, groups=(group("g", "alice"),)), by="alice")
    page = alice.open("/")
    expect(page.locator("#who")).to_contain_text("Signed in as alice")
    expect(page.locator("#home-devices")).to_contain_text("1 device")
    expect(page.locator("#projects")).to_contain_text("homely")
    page.click("#home-waiting a")
    page.wait_for_url(f"{server.url}{ROUTE_PREFIX}/requests")
    page.click("header a.brand")  # every page's header leads home
    page.wait_for_url(f"{server.url}{ROUTE_PREFIX}/")
    alice.screenshot("home")
    page = bob.open("/")
    expect(page.locator("#who")).to_contain_text("Signed in as bob")
    assert bob.fits()
    bob.screenshot("home-phone")

    server.create_user("finn")
    finn = signed_in(chromium, server, "finn")
    page = finn.open("/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#login")).to_be_visible()
    page = finn.open("/")
    expect(page.locator("#login")).to_be_visible()  # signed out: the home page asks to sign in again
    assert finn.page_errors == []
    finn.close()


def test_reject_asks_first_and_the_decided_page_says_what_happened(
    people: dict[str, Person], server: DevpiServer, tmp_path: Path
) -> None:
    alice, bob = people["alice"], people["bob"]
    gated(server, "careful")
    path = upload(server, tmp_path, "1.0", project="careful")
    request_id = server.request_for("careful", "1.0").id
    messages: list[str] = []
    bob.page.once("dialog", lambda dialog: messages.append(dialog.message))
    page = bob.press(request_id, "reject", confirm=False)
    assert messages == [
        "Reject careful 1.0? This ends the request for everyone and deletes its files; it cannot be undone."
    ]
    # Dismissed: no ceremony began, nothing was sent.
    expect(page.locator("#tpp-notice")).to_be_hidden()
    expect(page.locator("#decide button[data-verdict=reject]")).to_be_enabled()
    expect(page.locator("#state")).to_have_text("verifying")
    assert server.request_for("careful", "1.0").state is RequestState.VERIFYING
    assert server.stored("alice", "rel", path)
    assert bob.fits()

    page = bob.decide(request_id, "reject")
    expect(page.locator("#state")).to_have_text("rejected")
    expect(page.locator("p.flash")).to_have_text("You rejected the request: it is rejected and its files were deleted.")
    expect(page.locator("#facts")).not_to_contain_text("Expires")
    expect(page.locator("#outcome")).to_contain_text("The files below were deleted on")
    expect(page.locator("#decisions")).to_contain_text("phone")  # bob's device
    assert bob.fits()
    bob.screenshot("rejected-phone")
    assert not server.stored("alice", "rel", path)
    expect(alice.open(f"/requests/{request_id}").locator("p.flash")).to_have_count(0)  # the notice is bob's
