"""Notifications in the browser: the devices page offers them, the subscription endpoint stores a
device's push subscription (and refuses bad ones, changing nothing), the service worker is served
where its scope covers TPP's pages, and with the embedded defaults a change made through a page is
pushed as soon as it commits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from webtest import TestApp

from tests.common.authenticator import SoftAuthenticator
from tests.common.encoding import b64u_encode
from tests.common.notifications import listen, pushed, vapid_settings
from tests.common.push_service import LoopbackPushService
from tests.common.webapp import ORIGIN
from tests.functional.test_devices_pages import TOKEN, browser, device_ids, device_rows, enrol, post_json
from tpp_warehouse.models import AuditRecord, DeviceRecord
from tpp_warehouse.vapid import load

P256DH = b64u_encode(b"\x04" + bytes(range(64)))
AUTH = b64u_encode(bytes(16))
SUBSCRIPTION = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
    "expirationTime": None,
    "keys": {"p256dh": P256DH, "auth": AUTH},
}


@pytest.fixture
def push_settings(tmp_path: Path) -> dict[str, str]:
    return vapid_settings(tmp_path)


@pytest.fixture
def push_app(app_with: Callable[..., TestApp], push_settings: dict[str, str]) -> TestApp:
    """The host app with a VAPID key: Web Push on, jobs in-process (no tpp.redis_url)."""
    return app_with(**push_settings)


def subscription_of(engine: Engine, device_id: int) -> Any:
    with Session(engine) as session:
        device = session.get(DeviceRecord, device_id)
        assert device is not None
        return device.push_subscription


def test_the_page_offers_notifications_with_the_vapid_key(push_app: TestApp, push_settings: dict[str, str]) -> None:
    ann = browser(push_app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)
    section = ann.get("/tpp/devices").html.find("section", id="notifications")
    assert section["data-key"] == load(push_settings["tpp.vapid.private_key"]).application_server_key
    assert (section["data-worker"], section["data-scope"]) == ("/tpp/sw.js", "/tpp/")
    [button] = section.find_all("button")
    assert (button["data-push"], button["data-on"]) == (f"/tpp/devices/{device_id}/push", "false")
    assert device_rows(ann)[0][-1] == "off"


def test_without_a_vapid_key_the_page_says_so(app: TestApp) -> None:
    ann = browser(app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    page = ann.get("/tpp/devices")
    assert page.html.find("section", id="notifications") is None
    assert "does not send notifications" in page.text


def test_the_service_worker_is_served_at_the_prefix(push_app: TestApp) -> None:
    script = push_app.get("/tpp/sw.js")
    assert script.content_type == "text/javascript"
    assert script.headers["Cache-Control"] == "no-store"  # browsers must see a new version at once
    assert 'addEventListener("notificationclick"' in script.text
    assert push_app.get("/tpp/static/sw.js").body == script.body  # the same file, one copy


def test_a_subscription_is_stored_audited_and_removed(push_app: TestApp, engine: Engine) -> None:
    ann = browser(push_app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)
    answer = post_json(ann, f"/tpp/devices/{device_id}/push", {"subscription": SUBSCRIPTION})
    assert answer.json == {"device": {"id": device_id, "name": "phone", "notifications": True}}
    assert subscription_of(engine, device_id) == SUBSCRIPTION
    assert device_rows(ann)[0][-1] == "on"
    assert ann.get("/tpp/devices").html.find("button", attrs={"data-push": True})["data-on"] == "true"
    post_json(ann, f"/tpp/devices/{device_id}/push", {"subscription": None})
    assert subscription_of(engine, device_id) is None
    with Session(engine) as session:
        entries = session.scalars(
            select(AuditRecord.data).where(AuditRecord.kind == "tpp:device:push-subscribed").order_by(AuditRecord.seq)
        ).all()
    # Which push service, not the endpoint itself: that URL is the capability to push to the device.
    assert entries == [{"push_service": "fcm.googleapis.com"}, {"push_service": None}]


def _with(**changes: Any) -> dict[str, Any]:
    return {**SUBSCRIPTION, **changes}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"subscription" is missing; send null to turn notifications off'),
        ({"subscription": "https://push.example"}, '"subscription" must be an object'),
        ({"subscription": _with(endpoint="http://push.example/x")}, '"subscription.endpoint" must be an https:// URL'),
        ({"subscription": _with(endpoint="https://127.0.0.1:6379/x")}, ""),  # https, so accepted: see below
        ({"subscription": _with(endpoint="https://u:p@push.example/x")}, "must be an https:// URL"),
        ({"subscription": _with(endpoint="javascript:alert(1)")}, "must be an https:// URL"),
        ({"subscription": _with(endpoint=5)}, '"subscription.endpoint" must be a URL of at most 2048'),
        ({"subscription": _with(endpoint="https://push.example/" + "x" * 2100)}, "at most 2048"),
        ({"subscription": _with(padding="x" * 5000)}, '"subscription" is larger than 4096 characters'),
        ({"subscription": _with(keys=None)}, '"subscription.keys" must be an object with "p256dh" and "auth"'),
        ({"subscription": _with(keys={"auth": AUTH})}, '"subscription.keys.p256dh" must be base64url text'),
        ({"subscription": _with(keys={"p256dh": "!!!", "auth": AUTH})}, '"subscription.keys.p256dh" is not base64url'),
        ({"subscription": _with(keys={"p256dh": AUTH, "auth": AUTH})}, "uncompressed P-256 point (65 bytes)"),
        ({"subscription": _with(keys={"p256dh": P256DH, "auth": P256DH})}, '"subscription.keys.auth" must be 16'),
        ({"subscription": _with(expirationTime="soon")}, '"subscription.expirationTime" must be null or a number'),
    ],
)
def test_a_bad_subscription_is_refused_and_changes_nothing(
    push_app: TestApp, engine: Engine, body: dict[str, Any], message: str
) -> None:
    ann = browser(push_app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)
    answer = post_json(ann, f"/tpp/devices/{device_id}/push", body, status="*")
    if not message:
        assert answer.status_int == 200
        return
    assert answer.status_int == 400
    assert message in answer.json["error"]
    assert subscription_of(engine, device_id) is None


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b"x" * 70_000])
def test_a_body_that_is_not_a_json_object_is_refused(push_app: TestApp, engine: Engine, raw: bytes) -> None:
    ann = browser(push_app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    token = ann.get("/tpp/devices").html.find("meta", {"name": "csrf-token"})["content"]
    answer = ann.post(f"/tpp/devices/{device_id}/push", raw, headers={**headers, "X-CSRF-Token": token}, status="*")
    assert answer.status_int == 400
    assert subscription_of(engine, device_id) is None


def test_only_the_owner_with_a_session_and_csrf_token_may_subscribe(push_app: TestApp, engine: Engine) -> None:
    ann = browser(push_app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)
    url = f"/tpp/devices/{device_id}/push"
    bob = browser(push_app, "bob")
    enrol(bob, SoftAuthenticator(), "key")  # a confirmed session of bob's own
    assert post_json(bob, url, {"subscription": SUBSCRIPTION}, status=404).json["error"] == "no such device"
    assert post_json(bob, "/tpp/devices/x1/push", {"subscription": SUBSCRIPTION}, status=404)
    ci = browser(push_app)
    assert ci.post_json(url, {"subscription": SUBSCRIPTION}, headers=TOKEN, status="*").status_int in (400, 403)
    forged = ann.post_json(url, {"subscription": SUBSCRIPTION}, headers={"X-CSRF-Token": "forged"}, status="*")
    assert forged.status_int == 400
    assert subscription_of(engine, device_id) is None


def test_with_the_embedded_defaults_a_change_is_pushed_when_it_commits(push_app: TestApp, engine: Engine) -> None:
    """No Redis, no tick: enrolling a second device through the page pushes to the first at once."""
    ann = browser(push_app, "ann")
    phone = SoftAuthenticator()
    enrol(ann, phone, "phone")
    [phone_id] = device_ids(ann)
    with LoopbackPushService() as service, Session(engine) as session:
        listen(session, phone_id, service.subscribe())
        assert enrol(ann, SoftAuthenticator(), "laptop", voucher=phone).status_int == 200
        [_phone, laptop_id] = device_ids(ann)
        # The job ran before the response was sent: no waiting.
        assert pushed(service) == [
            {"device": str(laptop_id), "reason": "device-enrolled", "url": f"{ORIGIN}/tpp/devices"}
        ]
        assert service.deliveries[0].vapid_ok
