"""The devices page over HTTP: enrolling (a first device alone, every later one vouched for), renaming
and removing, and everything that must be refused (invariants I3, I6, I10).

The JSON endpoints are driven exactly as ``static/devices.js`` drives them, with a software
authenticator standing in for the browser's. The helpers here are shared with the approval pages' tests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from webtest import TestApp

from tests.common.authenticator import SoftAuthenticator
from tests.common.registry import Registry
from tests.common.webapp import ORIGIN
from tests.functional.conftest import login
from tpp_core import PersonId
from tpp_warehouse.security import CSP

SESSION_REQUIRED = "sign in to the registry in your browser to use this page"
TOKEN = {"Authorization": "Basic " + base64.b64encode(b"__token__:ci-secret").decode()}


# --- a browser, as the pages' scripts use it ---------------------------------------------------------


def browser(app: TestApp, person: str | None = None, **environ: Any) -> TestApp:
    """A browser of its own (its own cookies) on the app, signed in as ``person`` if given."""
    client = TestApp(app.app, extra_environ={**app.extra_environ, **environ})
    if person is not None:
        login(client, person)
    return client


def token_of(client: TestApp, page: str = "/tpp/devices") -> str:
    """The CSRF token a page publishes in its meta tag (error pages too: they extend the base)."""
    return str(client.get(page, expect_errors=True).html.find("meta", {"name": "csrf-token"})["content"])


def post_json(client: TestApp, url: str, body: Any, *, status: int | str = 200, **headers: str) -> Any:
    """POST ``body`` as tpp.post() does: JSON, Accept JSON, and the session's CSRF token."""
    headers = {"Accept": "application/json", "X-CSRF-Token": token_of(client), **headers}
    return client.post_json(url, body, headers=headers, status=status)


def enrol(
    client: TestApp, authenticator: SoftAuthenticator, name: str = "phone", voucher: SoftAuthenticator | None = None
) -> Any:
    """Enrol ``authenticator`` as devices.js does: begin, confirm with ``voucher`` if asked, create, finish."""
    begun = post_json(client, "/tpp/devices/begin", {}).json
    vouch = None
    if begun["vouch"] is not None and voucher is not None:
        assertion = voucher.get(json.loads(begun["vouch"]["options"]), ORIGIN)
        vouch = {"id": begun["vouch"]["id"], "credential": json.dumps(assertion)}
    created = authenticator.create(json.loads(begun["registration"]["options"]), ORIGIN)
    body = {"name": name, "registration": {"id": begun["registration"]["id"], "credential": json.dumps(created)}}
    return post_json(client, "/tpp/devices/finish", {**body, "vouch": vouch}, status="*")


def device_rows(client: TestApp) -> list[list[str]]:
    """The devices table as text: name, enrolled, may approve, admitted as."""
    table = client.get("/tpp/devices").html.find("table", id="devices")
    if table is None:
        return []
    rows = table.find_all("tr", attrs={"data-device": True})
    return [[" ".join(cell.get_text().split()) for cell in row.find_all("td")] for row in rows]


def device_ids(client: TestApp) -> list[int]:
    table = client.get("/tpp/devices").html.find("table", id="devices")
    return (
        [] if table is None else [int(row["data-device"]) for row in table.find_all("tr", attrs={"data-device": True})]
    )


# --- the journey -------------------------------------------------------------------------------------


def test_first_device_then_a_vouched_second(app: TestApp) -> None:
    ann = browser(app, "ann")
    assert "You have no devices yet" in ann.get("/tpp/devices").text

    phone, laptop = SoftAuthenticator(), SoftAuthenticator()
    first = enrol(ann, phone, "Ann's phone")
    assert first.status_int == 200
    assert first.json["device"]["name"] == "Ann's phone"
    [row] = device_rows(ann)
    assert row[0] == "Ann's phone"
    assert row[2] == "yes"  # the test host's cooldown is 0
    assert row[3].startswith("first device")

    # A second device without a voucher is refused, and nothing is stored.
    refused = enrol(ann, laptop, "laptop")
    assert refused.status_int == 403
    assert "already has a device; confirm the new one with it" in refused.json["error"]
    assert [r[0] for r in device_rows(ann)] == ["Ann's phone"]

    # Vouched for by the phone, it is accepted.
    accepted = enrol(ann, laptop, "laptop", voucher=phone)
    assert accepted.status_int == 200, accepted.text
    rows = device_rows(ann)
    assert [r[0] for r in rows] == ["Ann's phone", "laptop"]
    assert rows[1][3] == "confirmed with another of your devices"


def test_a_voucher_of_someone_else_is_refused(app: TestApp) -> None:
    ann, mallory = browser(app, "ann"), browser(app, "mallory")
    ann_phone, mallory_key = SoftAuthenticator(), SoftAuthenticator()
    assert enrol(ann, ann_phone).status_int == 200
    assert enrol(mallory, mallory_key).status_int == 200

    refused = enrol(ann, SoftAuthenticator(), "laptop", voucher=mallory_key)
    assert refused.status_int == 403
    assert "not one of ann's devices" in refused.json["error"]
    assert len(device_rows(ann)) == 1


def test_the_page_shows_the_cooldown(app_with: Callable[..., TestApp]) -> None:
    ann = browser(app_with(**{"tpp.device_cooldown": "24h"}), "ann")
    assert enrol(ann, SoftAuthenticator()).status_int == 200
    [row] = device_rows(ann)
    assert row[1:3] == ["2026-01-01 12:00:00 UTC", "from 2026-01-02 12:00:00 UTC"]  # the app's clock is at T0


def test_rename_and_remove(app: TestApp) -> None:
    ann = browser(app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)

    page = ann.get("/tpp/devices")
    form = _form(page, f"/tpp/devices/{device_id}/rename")
    form["name"] = "  old phone  "
    renamed = form.submit(status=303)
    assert renamed.location.endswith("/tpp/devices")
    page = renamed.follow()
    assert "Renamed to “old phone”." in page.text
    assert device_rows(ann)[0][0] == "old phone"

    removed = _form(page, f"/tpp/devices/{device_id}/remove").submit(status=303)
    assert "The device was removed" in removed.follow().text
    assert device_rows(ann) == []


def test_rename_refuses_a_bad_name_and_changes_nothing(app: TestApp) -> None:
    ann = browser(app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)
    for name in ["", "x" * 65, "tab\there"]:
        answer = ann.post(
            f"/tpp/devices/{device_id}/rename", {"name": name, "csrf_token": token_of(ann)}, expect_errors=True
        )
        assert answer.status_int == 400
        assert "a device's name must be 1 to 64 printable characters" in answer.html.find("p", class_="error").text
    # No name field at all.
    answer = ann.post(f"/tpp/devices/{device_id}/rename", {"csrf_token": token_of(ann)}, expect_errors=True)
    assert answer.status_int == 400
    assert answer.html.find("p", class_="error").text == "a device's name must be text"
    assert device_rows(ann)[0][0] == "phone"


def test_names_are_escaped(app: TestApp) -> None:
    ann = browser(app, "ann")
    assert enrol(ann, SoftAuthenticator(), '<script>alert("x")</script>').status_int == 200
    page = ann.get("/tpp/devices")
    assert "<script>alert" not in page.text
    assert device_rows(ann)[0][0] == '<script>alert("x")</script>'
    assert_no_inline_code(page)


def _form(page: Any, action: str) -> Any:
    return next(form for form in page.forms.values() if form.action == action)


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["rename", "remove"])
def test_someone_elses_device_is_not_found(app: TestApp, action: str) -> None:
    ann, bob = browser(app, "ann"), browser(app, "bob")
    enrol(ann, SoftAuthenticator(), "phone")
    enrol(bob, SoftAuthenticator(), "key")  # a confirmed session of bob's own
    [ann_device] = device_ids(ann)

    answer = bob.post(
        f"/tpp/devices/{ann_device}/{action}",
        {"name": "mine now", "csrf_token": token_of(bob)},
        headers={"Accept": "application/json"},
        expect_errors=True,
    )
    assert answer.status_int == 404
    assert answer.json == {"error": "no such device"}
    assert device_rows(ann)[0][0] == "phone"


@pytest.mark.parametrize("device_id", ["abc", "1.5", "-1", "0x10", "1" * 30, "%C3%A9"])
@pytest.mark.parametrize("action", ["rename", "remove"])
def test_a_device_id_that_is_not_a_number_is_not_found(app: TestApp, action: str, device_id: str) -> None:
    ann = browser(app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    answer = ann.post(
        f"/tpp/devices/{device_id}/{action}",
        {"name": "x", "csrf_token": token_of(ann)},
        headers={"Accept": "application/json"},
        expect_errors=True,
    )
    assert answer.status_int == 404
    assert answer.json == {"error": "no such device"}
    # The page a person's browser gets says the same.
    page = ann.post(f"/tpp/devices/{device_id}/{action}", {"csrf_token": token_of(ann)}, expect_errors=True)
    assert page.status_int == 404
    assert page.html.find("p", class_="error").text == "no such device"
    assert device_rows(ann)[0][0] == "phone"


def _finish(begun: dict[str, Any], credential: Any) -> dict[str, Any]:
    return {"name": "phone", "registration": {"id": begun["registration"]["id"], "credential": credential}}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"name" is missing'),
        ({"name": 7, "registration": {}}, '"name" must be text, got a number'),
        ({"name": "phone"}, '"registration" is missing'),
        (
            {"name": "phone", "registration": "x"},
            '"registration" must be an object with "id" and "credential", got text',
        ),
        ({"name": "phone", "registration": {"credential": "{}"}}, '"registration.id" is missing'),
        (
            {"name": "phone", "registration": {"id": ["x"], "credential": "{}"}},
            '"registration.id" must be text, got an array',
        ),
        ({"name": "phone", "registration": {"id": "x"}}, '"registration.credential" is missing'),
        (
            {"name": "phone", "registration": {"id": "x", "credential": 5}},
            '"registration.credential" must be an object or JSON text, got a number',
        ),
        (
            {"name": "phone", "registration": {"id": "x", "credential": "{}"}, "vouch": []},
            '"vouch" must be an object with "id" and "credential", got an array',
        ),
        ({"name": "phone", "registration": {"id": "x", "credential": "{}"}}, "unknown or was already used"),
    ],
)
def test_finish_names_what_is_wrong(app: TestApp, body: dict[str, Any], message: str) -> None:
    ann = browser(app, "ann")
    answer = post_json(ann, "/tpp/devices/finish", body, status="*")
    assert 400 <= answer.status_int < 500
    assert message in answer.json["error"]
    assert device_rows(ann) == []


def test_finish_refuses_bad_credentials(app: TestApp) -> None:
    ann = browser(app, "ann")
    cases = [
        ("x" * (20 * 1024), "larger than 16384 characters"),
        ("{not json", "the credential is not JSON"),
        ({"type": "public-key"}, "rawId"),
    ]
    for credential, message in cases:
        begun = post_json(ann, "/tpp/devices/begin", {}).json
        answer = post_json(ann, "/tpp/devices/finish", _finish(begun, credential), status="*")
        assert answer.status_int == 400, answer.text
        assert message in answer.json["error"]
    assert device_rows(ann) == []


def test_a_registration_from_another_origin_is_refused(app: TestApp) -> None:
    ann = browser(app, "ann")
    begun = post_json(ann, "/tpp/devices/begin", {}).json
    created = SoftAuthenticator().create(json.loads(begun["registration"]["options"]), "https://evil.example")
    answer = post_json(ann, "/tpp/devices/finish", _finish(begun, created), status="*")
    assert answer.status_int == 400
    assert "another web site" in answer.json["error"]
    assert device_rows(ann) == []


def test_a_registration_ceremony_is_used_once(app: TestApp) -> None:
    ann = browser(app, "ann")
    begun = post_json(ann, "/tpp/devices/begin", {}).json
    created = json.dumps(SoftAuthenticator().create(json.loads(begun["registration"]["options"]), ORIGIN))
    assert post_json(ann, "/tpp/devices/finish", _finish(begun, created)).status_int == 200
    replay = post_json(ann, "/tpp/devices/finish", _finish(begun, created), status="*")
    assert replay.status_int == 400
    assert "unknown or was already used" in replay.json["error"]
    assert len(device_rows(ann)) == 1


def test_a_registration_started_by_someone_else_is_refused(app: TestApp) -> None:
    ann, bob = browser(app, "ann"), browser(app, "bob")
    begun = post_json(bob, "/tpp/devices/begin", {}).json
    created = SoftAuthenticator().create(json.loads(begun["registration"]["options"]), ORIGIN)
    answer = post_json(ann, "/tpp/devices/finish", _finish(begun, created), status="*")
    assert answer.status_int == 400
    assert "started for something else" in answer.json["error"]
    assert device_rows(ann) == device_rows(bob) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the request body is not JSON"),
        (b"", "the request body is not JSON"),
        (b"\xff\xfe\x00", "the request body is not JSON"),
        (b"[" * 100_00 + b"]" * 100_00, "the request body is not JSON"),
        (b'["name", "phone"]', "the request body must be a JSON object, got an array"),
        (b'"phone"', "the request body must be a JSON object, got text"),
        (b"null", "the request body must be a JSON object, got null"),
        (b'{"name": "' + b"x" * (70 * 1024) + b'"}', "the request body is larger than 65536 bytes"),
    ],
)
def test_finish_refuses_a_body_that_is_not_an_object(app: TestApp, body: bytes, message: str) -> None:
    ann = browser(app, "ann")
    answer = ann.post(
        "/tpp/devices/finish",
        body,
        content_type="application/json",
        headers={"X-CSRF-Token": token_of(ann)},
        expect_errors=True,
    )
    assert answer.status_int == 400
    assert answer.json == {"error": message}


# --- sessions, tokens and CSRF (I3) ---------------------------------------------------------------------


def _device_endpoints(device_id: int) -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/tpp/devices/begin", {}),
        ("POST", "/tpp/devices/finish", {"name": "x", "registration": {"id": "x", "credential": "{}"}}),
        ("POST", f"/tpp/devices/{device_id}/rename", {"name": "stolen"}),
        ("POST", f"/tpp/devices/{device_id}/remove", {}),
    ]


@pytest.mark.parametrize("credentials", ["token", "none"])
def test_pages_need_a_browser_session(app: TestApp, registry: Registry, credentials: str) -> None:
    [ci_device] = registry.enrol("ci", ready=False)
    registry.session.commit()
    environ = {"HTTP_AUTHORIZATION": TOKEN["Authorization"]} if credentials == "token" else {}
    client = browser(app, **environ)

    page = client.get("/tpp/devices", expect_errors=True)
    assert page.status_int == 403
    assert SESSION_REQUIRED in page.text
    assert page.headers["Content-Security-Policy"] == CSP

    # Without a session cookie there is no CSRF token to match: the CSRF check refuses first.
    for _method, url, body in _device_endpoints(ci_device.id):
        fresh = browser(app, **environ)
        answer = fresh.post_json(url, body, headers={"Accept": "application/json"}, expect_errors=True)
        assert 400 <= answer.status_int < 500, url

    # With the anonymous session's CSRF token (from the error page), the session check refuses.
    csrf = token_of(client)
    for _method, url, body in _device_endpoints(ci_device.id):
        answer = client.post_json(
            url, body, headers={"Accept": "application/json", "X-CSRF-Token": csrf}, expect_errors=True
        )
        assert answer.status_int == 403, url
        assert SESSION_REQUIRED in answer.json["error"]
        form = client.post(url, {"name": "stolen", "csrf_token": csrf}, expect_errors=True)
        assert form.status_int == 403, url
        assert SESSION_REQUIRED in form.html.find("p", class_="error").text

    registry.session.commit()
    assert [(d.id, d.name) for d in registry.devices.devices(PersonId("ci"))] == [(ci_device.id, "phone")]


def test_posts_need_the_csrf_token(app: TestApp) -> None:
    ann = browser(app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    [device_id] = device_ids(ann)
    for _method, url, body in _device_endpoints(device_id):
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            answer = ann.post_json(url, body, headers={"Accept": "application/json", **headers}, expect_errors=True)
            assert 400 <= answer.status_int < 500, url
        form = ann.post(url, {"name": "stolen", "csrf_token": "forged"}, expect_errors=True)
        assert 400 <= form.status_int < 500, url
    assert [r[0] for r in device_rows(ann)] == ["phone"]


def test_the_page_is_protected_and_fits_a_phone(app: TestApp) -> None:
    ann = browser(app, "ann")
    enrol(ann, SoftAuthenticator(), "phone")
    page = ann.get("/tpp/devices")
    assert page.headers["Content-Security-Policy"] == CSP
    assert page.headers["Cache-Control"] == "no-store"
    assert page.html.find("meta", {"name": "viewport"})["content"] == "width=device-width, initial-scale=1"
    assert_no_inline_code(page)
    scripts = [s["src"] for s in page.html.find_all("script")]
    assert scripts == ["/tpp/static/tpp.js", "/tpp/static/devices.js", "/tpp/static/push.js"]
    assert ann.get("/tpp/static/devices.js").status_int == 200
    begun = post_json(ann, "/tpp/devices/begin", {})
    assert begun.headers["Content-Security-Policy"] == CSP


def assert_no_inline_code(page: Any) -> None:
    """Nothing the CSP would block: no inline script bodies or handlers, no style attributes or tags."""
    for script in page.html.find_all("script"):
        assert script.get("src"), script
        assert not script.string or not script.string.strip(), script
    assert page.html.find("style") is None
    assert page.html.find(attrs={"style": True}) is None
    assert "style=" not in page.text
    for tag in page.html.find_all(True):
        assert not any(attribute.startswith("on") for attribute in tag.attrs), tag
